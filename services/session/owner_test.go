package session

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// TestSessionBoundToItsPrincipal: a session created by alice answers bob, on every
// call that names a session, exactly as an unknown session does (same code, same
// message shape), and keeps working for alice; in memory, and over PostgreSQL with
// the session created on one replica and tried on another.
func TestSessionBoundToItsPrincipal(t *testing.T) {
	for _, tc := range []struct {
		name string
		db   func(t *testing.T) *pgxpool.Pool
	}{
		{"memory", func(*testing.T) *pgxpool.Pool { return nil }},
		{"postgres", newDB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.db(t)
			a := newHarnessOn(t, db, true, nil)
			b := a
			if db != nil {
				b = newHarnessOn(t, db, true, nil) // a second replica on the same database
			}
			id := a.initializeAs(t, alice).GetId()
			const unknownID = "AAAAAAAAAAAAAAAAAAAAAA"

			// Each way of naming a session, for a given id and principal.
			tries := map[string]func(h *harness, p *principal.Principal, id string) error{
				"handle": func(h *harness, p *principal.Principal, id string) error {
					_, err := h.handleAs(t, p, &sessionv1.HandleRequest{SessionId: id, Method: "tools/list", Params: []byte(`{}`), RequestId: []byte("1")})
					return err
				},
				"get": func(h *harness, p *principal.Principal, id string) error {
					_, err := h.client.GetSession(as(t, p), &sessionv1.GetSessionRequest{SessionId: id})
					return err
				},
				"respond": func(h *harness, p *principal.Principal, id string) error {
					_, err := h.client.Respond(as(t, p), &sessionv1.RespondRequest{SessionId: id, RequestId: []byte(`"x"`), Outcome: &sessionv1.RespondRequest_Result{Result: []byte(`{}`)}})
					return err
				},
				"publish": func(h *harness, p *principal.Principal, id string) error {
					_, err := h.client.Publish(as(t, p), &sessionv1.PublishRequest{SessionId: id, Messages: [][]byte{[]byte(`{}`)}})
					return err
				},
				"delete": func(h *harness, p *principal.Principal, id string) error {
					_, err := h.client.DeleteSession(as(t, p), &sessionv1.DeleteSessionRequest{SessionId: id})
					return err
				},
			}
			for _, name := range []string{"handle", "get", "respond", "publish", "delete"} {
				try := tries[name]
				foreign, unknown := status.Convert(try(b, bob, id)), status.Convert(try(b, bob, unknownID))
				if foreign.Code() != codes.NotFound || unknown.Code() != codes.NotFound {
					t.Fatalf("%s: foreign %v, unknown %v; want NotFound for both", name, foreign.Code(), unknown.Code())
				}
				if want := strings.ReplaceAll(unknown.Message(), unknownID, id); foreign.Message() != want {
					t.Errorf("%s: foreign %q differs from unknown %q", name, foreign.Message(), unknown.Message())
				}
				if name != "delete" {
					if err := try(b, alice, id); status.Code(err) == codes.NotFound {
						t.Errorf("%s: the owner gets NotFound: %v", name, err)
					}
				}
			}
			// Without a principal (another mesh-internal caller) the session is foreign too.
			if _, err := b.client.GetSession(t.Context(), &sessionv1.GetSessionRequest{SessionId: id}); status.Code(err) != codes.NotFound {
				t.Errorf("no principal: %v", err)
			}
			// bob's delete did nothing: alice still has her session, and may end it.
			if err := tries["delete"](b, alice, id); err != nil {
				t.Fatalf("the owner's delete: %v", err)
			}
		})
	}
}

// TestAnonymousSessionsHaveNoOwner: with authentication off every caller is the
// anonymous principal, whose sessions are recorded without an owner, like sessions
// created without a principal (the previous release's gateways and transports send
// none). Each kind answers both kinds of caller, so a rolling upgrade from a release
// without principals loses no session; an authenticated caller gets neither.
func TestAnonymousSessionsHaveNoOwner(t *testing.T) {
	h := newHarnessOn(t, nil, true, nil)
	anonymous := h.initializeAs(t, principal.Anonymous).GetId()
	resp, err := h.client.Initialize(t.Context(), &sessionv1.InitializeRequest{
		Params: []byte(`{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"previous-release","version":"1"}}`),
	})
	if err != nil {
		t.Fatalf("initialize without a principal: %v", err)
	}
	for name, id := range map[string]string{"anonymous": anonymous, "without a principal": resp.GetSession().GetId()} {
		req := &sessionv1.GetSessionRequest{SessionId: id}
		if _, err := h.client.GetSession(t.Context(), req); err != nil {
			t.Errorf("session created %s, asked without a principal: %v", name, err)
		}
		if _, err := h.client.GetSession(as(t, principal.Anonymous), req); err != nil {
			t.Errorf("session created %s, asked as the anonymous principal: %v", name, err)
		}
		if _, err := h.client.GetSession(as(t, alice), req); status.Code(err) != codes.NotFound {
			t.Errorf("session created %s, asked as alice: %v, want NotFound", name, err)
		}
	}
}
