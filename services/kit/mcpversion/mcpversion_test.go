package mcpversion

import "testing"

func TestNegotiate(t *testing.T) {
	tests := []struct{ requested, want string }{
		{V20251125, V20251125},
		{V20250618, V20250618},
		{V20250326, V20250326},
		{V20241105, V20241105},
		{"2024-10-07", LatestStateful},
		{V20260728, LatestStateful},
		{"", LatestStateful},
		{"garbage", LatestStateful},
	}
	for _, tt := range tests {
		if got := Negotiate(tt.requested); got != tt.want {
			t.Errorf("Negotiate(%q) = %q, want %q", tt.requested, got, tt.want)
		}
	}
}

func TestGenerations(t *testing.T) {
	if !IsStateless(V20260728) || IsStateless(V20251125) {
		t.Error("IsStateless misclassifies")
	}
	if !IsStateful(V20250326) || IsStateful(V20260728) || !IsStateful(V20241105) || IsStateful("2024-10-07") {
		t.Error("IsStateful misclassifies")
	}
	if len(All) != len(Stateless)+len(Stateful) || All[0] != V20260728 {
		t.Errorf("All = %v", All)
	}
	if !AtLeast(V20251125, V20250618) || AtLeast(V20250326, V20250618) {
		t.Error("AtLeast misorders")
	}
}
