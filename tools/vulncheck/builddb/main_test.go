package main

import (
	"encoding/json"
	"testing"
)

func TestLatestFixed(t *testing.T) {
	cases := []struct {
		name, events, want string
	}{
		{"one fix", `[{"introduced":"0"},{"fixed":"1.2.3"}]`, "1.2.3"},
		{"the highest fix", `[{"introduced":"0"},{"fixed":"1.2.3"},{"introduced":"1.5.0"},{"fixed":"1.10.0"}]`, "1.10.0"},
		{"reintroduced after the last fix", `[{"introduced":"0"},{"fixed":"1.2.3"},{"introduced":"2.0.0"}]`, ""},
		{"never fixed", `[{"introduced":"0"}]`, ""},
	}
	for _, c := range cases {
		var e entry
		if err := json.Unmarshal([]byte(`{"affected":[{"ranges":[{"type":"SEMVER","events":`+c.events+`}]}]}`), &e); err != nil {
			t.Fatal(err)
		}
		if got := latestFixed("", e.Affected[0].Ranges[0].Events); got != c.want {
			t.Errorf("%s: latestFixed = %q, want %q", c.name, got, c.want)
		}
	}
}
