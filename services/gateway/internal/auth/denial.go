package auth

import (
	"net/http"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The session service's denials (the step-up contract between the service that
// authorizes and the gateway that answers HTTP): codes.PermissionDenied with a
// google.rpc.ErrorInfo of this domain and one of these reasons.
const (
	DenialDomain = "mcpmesh.dev"
	// ReasonInsufficientScope: the caller lacks scopes; Metadata["scopes"] lists every
	// scope the operation needs, space-separated.
	ReasonInsufficientScope = "INSUFFICIENT_SCOPE"
	// ReasonPolicyDenied: a policy condition refused the call; nothing more is said.
	ReasonPolicyDenied = "POLICY_DENIED"
)

// Denial is a session service's refusal, read from a gRPC error.
type Denial struct {
	// Scopes the operation needs, when the refusal is for missing scopes (step-up).
	Scopes []string
	// Policy is true for a refusal by a policy condition.
	Policy bool
}

// DenialOf reads the step-up contract from err; ok is false for any other error.
func DenialOf(err error) (_ Denial, ok bool) {
	st, isStatus := status.FromError(err)
	if !isStatus || st.Code() != codes.PermissionDenied {
		return Denial{}, false
	}
	for _, d := range st.Details() {
		info, isInfo := d.(*errdetails.ErrorInfo)
		if !isInfo || info.GetDomain() != DenialDomain {
			continue
		}
		switch info.GetReason() {
		case ReasonInsufficientScope:
			scopes := strings.Fields(info.GetMetadata()["scopes"])
			if len(scopes) == 0 {
				return Denial{Policy: true}, true // a step-up with nothing to ask for cannot succeed
			}
			return Denial{Scopes: scopes}, true
		case ReasonPolicyDenied:
			return Denial{Policy: true}, true
		}
	}
	return Denial{}, false
}

// WriteStepUp answers a refusal for missing scopes: 403 with an insufficient_scope
// challenge naming every scope the operation needs, in one challenge: those any access
// needs (c.Scopes) first, then those of the refusal. Clients may replace their scope
// with the challenge's rather than add to it (the TypeScript SDK does): a challenge
// without the base scopes would get them a token that opens nothing else.
func (c Challenge) WriteStepUp(w http.ResponseWriter, scopes []string) {
	all := slices.Clone(c.Scopes)
	for _, s := range scopes {
		if !slices.Contains(all, s) {
			all = append(all, s)
		}
	}
	c.Write(w, &Refusal{Status: http.StatusForbidden, Code: codeInsufficientScope, Scopes: all,
		Description: "this operation needs more scopes: authorize again with those named in scope"})
}
