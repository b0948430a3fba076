package dispatch

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/jsonenc"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
	"github.com/mcpmesh/mcpmesh/services/session/internal/pending"
)

// The input_required adapter for stateful sessions. Providers ask for client input
// the stateless way (input_required with opaque state); a stateful client expects
// server-to-client requests instead. askClient sends each request on the stream of
// the request being served, waits for the answers (which come back through Respond,
// possibly via another replica) and puts them in the request context, so the caller
// can call the provider again, as a stateless client's retry would.

// maxInputRounds bounds how often one request may ask for client input, so that a
// provider that never stops asking cannot hold the request forever.
const maxInputRounds = 8

// withClientInput runs call until the provider stops asking for input. For the
// stateless generation the first input_required becomes the InputRequiredResult; for
// stateful sessions the session asks the client and calls again.
func withClientInput[R any](d *Dispatcher, ctx context.Context, req *Request, cc *callContext, t target, name string, emit Emit,
	call func() (R, *mcpv1.InputRequired, error), finish func(R) ([]byte, error)) ([]byte, error) {
	for round := 0; ; round++ {
		resp, ir, err := call()
		if err != nil {
			return nil, err
		}
		if ir == nil {
			return finish(resp)
		}
		if req.NoClient {
			return nil, inputNotSupported(t)
		}
		if req.Session == nil {
			return d.inputRequired(ctx, req, cc, t, name, ir)
		}
		if round == maxInputRounds {
			d.logger.WarnContext(ctx, "provider kept asking for client input", "kind", t.kind, "name", t.name, "rounds", round)
			return nil, mcpjson.Errorf(mcpjson.CodeInternal, "%s %s asked for client input %d times; giving up", t.kind, t.name, round)
		}
		if err := d.askClient(ctx, req, cc, t, ir, emit); err != nil {
			return nil, err
		}
	}
}

// askClient sends the provider's input requests to a stateful client and waits for
// every answer; on success cc carries them (and the provider's state) for the next
// call.
func (d *Dispatcher) askClient(ctx context.Context, req *Request, cc *callContext, t target, ir *mcpv1.InputRequired, emit Emit) error {
	if d.pending == nil {
		return inputNotSupported(t)
	}
	keys, _, err := d.checkInputRequests(ctx, cc, t, ir)
	if err != nil {
		return err
	}
	type asked struct {
		key    string
		method string
		waiter pending.Waiter
	}
	waits := make([]asked, 0, len(keys))
	defer func() {
		for _, a := range waits {
			a.waiter.Close()
		}
	}()
	for _, k := range keys {
		var r inputRequest
		_ = json.Unmarshal(ir.GetInputRequests()[k], &r) // checked by checkInputRequests
		id := newServerRequestID()
		w, err := d.pending.Expect(ctx, req.Session.ID, id)
		if err != nil {
			return err
		}
		waits = append(waits, asked{key: k, method: r.Method, waiter: w})
		if err := emit(&sessionv1.HandleResponse{Event: &sessionv1.HandleResponse_Request{Request: &sessionv1.ServerRequest{
			Id: id, Method: r.Method, Params: r.Params,
		}}}); err != nil {
			return err
		}
	}
	answers := make(map[string][]byte, len(waits))
	for _, a := range waits {
		select {
		case <-ctx.Done():
			if clientCancelled(ctx) {
				return errCancelled
			}
			return mcpjson.Errorf(mcpjson.CodeInternal, "%s %s timed out waiting for the client's answer to %s", t.kind, t.name, a.method)
		case ans := <-a.waiter.C():
			if ans.Error != nil {
				return (&mcpjson.Error{Code: mcpjson.CodeInternal,
					Message: t.kind + " " + t.name + ": the client refused " + a.method + ": " + ans.Error.Message,
				}).WithData(map[string]any{"clientError": map[string]any{"code": ans.Error.Code, "message": ans.Error.Message}})
			}
			if !mcpjson.IsObject(ans.Result) || !json.Valid(ans.Result) {
				return invalidParams("the client's answer to %s must be a result object", a.method)
			}
			answers[a.key] = ans.Result
		}
	}
	cc.rc.InputResponses = answers
	cc.rc.RequestState = ir.GetRequestState()
	return nil
}

// newServerRequestID returns a fresh JSON-RPC id for a server-to-client request: a
// JSON string that cannot collide with another replica's.
func newServerRequestID() []byte {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return jsonenc.AppendString(nil, "mcpmesh-"+base64.RawURLEncoding.EncodeToString(b[:]))
}
