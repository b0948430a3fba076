package tools

import (
	"context"
)

type touchArgs struct {
	URI *string `json:"uri"`
}

// runTouch changes a changing resource through touch; the URI defaults to the
// watched resource.
func runTouch(touch func(uri string) error) func(context.Context, *Call) (Outcome, error) {
	return func(_ context.Context, call *Call) (Outcome, error) {
		var args touchArgs
		if err := decodeArgs(call.Arguments, &args, false); err != nil {
			return invalidArgs(call, err)
		}
		uri := "test://watched-resource"
		if args.URI != nil {
			uri = *args.URI
		}
		if touch == nil {
			return errorResult("This provider has no resource that can change.")
		}
		if err := touch(uri); err != nil {
			return invalidArgs(call, err)
		}
		return textResult("Changed " + uri)
	}
}
