package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
)

// echoArgs is decoded straight into a pointer field: echo is the benchmarks' hot path.
type echoArgs struct {
	Message *string `json:"message"`
}

func runEcho(_ context.Context, call *Call) (Outcome, error) {
	var args echoArgs
	if err := decodeArgs(call.Arguments, &args, false); err != nil {
		return invalidArgs(call, err)
	}
	if args.Message == nil {
		return invalidArgs(call, missing("message"))
	}
	return textResult("Echo: " + *args.Message)
}

type addArgs struct {
	A *float64 `json:"a"`
	B *float64 `json:"b"`
}

type sumResult struct {
	Sum float64 `json:"sum"`
}

func runAdd(_ context.Context, call *Call) (Outcome, error) {
	var args addArgs
	if err := decodeArgs(call.Arguments, &args, false); err != nil {
		return invalidArgs(call, err)
	}
	switch {
	case args.A == nil:
		return invalidArgs(call, missing("a"))
	case args.B == nil:
		return invalidArgs(call, missing("b"))
	}
	sum := *args.A + *args.B
	if math.IsInf(sum, 0) {
		return errorResult("The sum is too large to represent as a JSON number.")
	}
	structured, err := json.Marshal(sumResult{Sum: sum})
	if err != nil {
		return Outcome{}, fmt.Errorf("encode sum: %w", err)
	}
	// The text block repeats the structured content, for clients that ignore it.
	c, err := contentText(string(structured))
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Result: &mcpv1.ToolResult{Content: c, StructuredContent: structured}}, nil
}

type json2020Args struct {
	Name    string `json:"name"`
	Address *struct {
		Street string `json:"street"`
		City   string `json:"city"`
	} `json:"address"`
	ContactMethod string `json:"contactMethod"`
	Phone         string `json:"phone"`
	Email         string `json:"email"`
}

// runJSONSchema2020 exists for its input schema (the suite checks that the 2020-12
// keywords survive tools/list; the mesh enforces the schema before the call, and the
// tool honours additionalProperties:false on its own too). It reports the contact the
// conditional schema asked for.
func runJSONSchema2020(_ context.Context, call *Call) (Outcome, error) {
	var args json2020Args
	if err := decodeArgs(call.Arguments, &args, true); err != nil {
		return invalidArgs(call, err)
	}
	text := fmt.Sprintf("Received name=%q", args.Name)
	if args.Address != nil {
		text += fmt.Sprintf(", address=%q, %q", args.Address.Street, args.Address.City)
	}
	if args.ContactMethod == "phone" {
		text += fmt.Sprintf(", contact by phone %q", args.Phone)
	} else if args.Email != "" {
		text += fmt.Sprintf(", contact by email %q", args.Email)
	}
	return textResult(text)
}

// reconnectionDelay gives the transport time to close the SSE stream and the client time
// to reconnect before the result is sent.
const reconnectionDelay = 100 * time.Millisecond

func runReconnection(ctx context.Context, call *Call) (Outcome, error) {
	if err := decodeArgs(call.Arguments, &struct{}{}, false); err != nil {
		return invalidArgs(call, err)
	}
	if err := sleep(ctx, reconnectionDelay); err != nil {
		return Outcome{}, err
	}
	return textResult("Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.")
}
