package streamend_test

import (
	"errors"
	"io"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/streamend"
)

func TestRead(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		name string
		msg  *int
		err  error
		want error
	}{
		{"the end", nil, io.EOF, nil},
		{"one more message", new(int), nil, streamend.ErrMessageAfterLast},
		{"an error", nil, boom, boom},
	} {
		got := streamend.Read(func() (*int, error) { return c.msg, c.err })
		if !errors.Is(got, c.want) || (c.want == nil && got != nil) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
