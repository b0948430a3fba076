package virtualserver

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"
)

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"finance", true},
		{"team-a_2", true},
		{"9lives", true},
		{"", false},
		{"Finance", false},
		{"-lead", false},
		{"_lead", false},
		{"a/b", false},
		{"a b", false},
		{"..", false},
		{"é", false},
		{strings.Repeat("a", MaxNameLength), true},
		{strings.Repeat("a", MaxNameLength+1), false},
	} {
		if err := CheckName(tc.name); (err == nil) != tc.ok {
			t.Errorf("CheckName(%q) = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// The name goes out as one metadata entry and comes back in; a context that carries
// one keeps it whatever the metadata says (an in-process call).
func TestMetadataRoundTrip(t *testing.T) {
	out := AppendToOutgoing(NewContext(context.Background(), "finance"))
	md, _ := metadata.FromOutgoingContext(out)
	in, err := FromIncoming(metadata.NewIncomingContext(context.Background(), md))
	if err != nil || FromContext(in) != "finance" {
		t.Fatalf("round trip: %q %v", FromContext(in), err)
	}
	if got := AppendToOutgoing(context.Background()); got != context.Background() {
		t.Error("a context without a virtual server gained metadata")
	}
	spoofed := metadata.NewIncomingContext(NewContext(context.Background(), "a"), metadata.Pairs(MetadataKey, "b"))
	if ctx, err := FromIncoming(spoofed); err != nil || FromContext(ctx) != "a" {
		t.Errorf("in-process value: %q %v", FromContext(ctx), err)
	}
	for _, md := range []metadata.MD{metadata.Pairs(MetadataKey, "a", MetadataKey, "b"), metadata.Pairs(MetadataKey, "A")} {
		if _, err := FromIncoming(metadata.NewIncomingContext(context.Background(), md)); !errors.Is(err, ErrMalformed) {
			t.Errorf("FromIncoming(%v) = %v, want ErrMalformed", md, err)
		}
	}
}
