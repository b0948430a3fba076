package dispatch

import (
	"context"
	"errors"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
	"github.com/mcpmesh/mcpmesh/services/session/internal/audit"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
)

// auditNote is what authorize learnt about a request, for its audit line.
type auditNote struct {
	capability policy.Capability
	arguments  []byte
	// denied is the policy's decision when it refused the request.
	denied *policy.Decision
}

// audited runs a request that authorize checks and writes its audit line: always
// (tools/call, resources/read, prompts/get), or only when the policy refused it.
func (d *Dispatcher) audited(ctx context.Context, req *Request, always bool, run func() ([]byte, error)) ([]byte, error) {
	if d.audit == nil {
		return run()
	}
	start := time.Now()
	out, err := run()
	if !always && req.audit.denied == nil {
		return out, err
	}
	who, _ := principal.FromContext(ctx)
	e := audit.Entry{
		Method:    req.Method,
		Principal: who,
		Kind:      string(req.audit.capability.Kind),
		Name:      req.audit.capability.Name,
		Provider:  req.audit.capability.Provider,
		SessionID: req.sessionID(),
		Duration:  time.Since(start),
		Arguments: req.audit.arguments,
		Outcome:   "ok",
	}
	var rpcErr *mcpjson.Error
	switch {
	case req.audit.denied != nil:
		e.Outcome, e.Rule, e.Scopes = req.audit.denied.Outcome.String(), req.audit.denied.Rule, req.audit.denied.Scopes
	case err == nil:
	case ErrCancelled(err), errors.Is(err, context.Canceled):
		e.Outcome = "cancelled"
	case errors.As(err, &rpcErr):
		e.Outcome, e.Code = "error", rpcErr.Code
	default:
		e.Outcome = "error"
	}
	d.audit.Log(ctx, e)
	return out, err
}
