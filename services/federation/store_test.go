package federation

import (
	"context"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	federationv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/federation/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

// Both stores keep the same upstreams the same way: a put creates or replaces, a
// delete reports whether there was one, the list is ordered by name and the spec
// comes back whole, and a follower hears of every change, whichever store instance
// (replica) made it.
func TestUpstreamStores(t *testing.T) {
	stores := map[string]func(t *testing.T) (writer, follower UpstreamStore){
		"memory": func(*testing.T) (UpstreamStore, UpstreamStore) {
			s := NewMemoryStore()
			return s, s
		},
		"postgres": func(t *testing.T) (UpstreamStore, UpstreamStore) {
			pool := pgtest.NewPool(t, func(ctx context.Context, p *pgxpool.Pool) error { return Migrate(ctx, p, discard()) })
			// Two stores on two pools: two replicas of one database.
			other, err := pgxpool.New(context.Background(), pool.Config().ConnString())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(other.Close)
			return NewPGStore(pool, discard()), NewPGStore(other, slog.New(slog.DiscardHandler))
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			writer, follower := open(t)
			ctx, cancel := context.WithCancel(t.Context())
			changed := make(chan struct{}, 1)
			var wg sync.WaitGroup
			wg.Go(func() {
				follower.Follow(ctx, func() {
					select {
					case changed <- struct{}{}:
					default:
					}
				})
			})
			t.Cleanup(func() { cancel(); wg.Wait() })
			// Both stores signal once they follow (a PostgreSQL store once it listens).
			select {
			case <-changed:
			case <-time.After(10 * time.Second):
				t.Fatal("the follower did not start following within 10s")
			}
			// heard waits for a signal that comes after the change: a resync before it
			// is drained first.
			heard := func(change func()) {
				t.Helper()
				for len(changed) > 0 {
					<-changed
				}
				change()
				select {
				case <-changed:
				case <-time.After(5 * time.Second):
					t.Fatal("the follower heard of no change within 5s")
				}
			}

			beta := fullUpstream("beta")
			var created bool
			heard(func() {
				var err error
				if _, created, err = writer.Put(t.Context(), beta); err != nil {
					t.Fatal(err)
				}
			})
			if !created {
				t.Error("the first put of beta did not create it")
			}
			heard(func() {
				if _, _, err := writer.Put(t.Context(), Upstream{Name: "alpha", URL: "http://127.0.0.1:1/mcp"}); err != nil {
					t.Fatal(err)
				}
			})
			beta.Prefix = "b2"
			heard(func() {
				var err error
				if _, created, err = writer.Put(t.Context(), beta); err != nil {
					t.Fatal(err)
				}
			})
			if created {
				t.Error("the second put of beta created it")
			}
			list, err := follower.List(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 || list[0].Name != "alpha" || list[1].Name != "beta" {
				t.Fatalf("listed %+v, want alpha then beta", list)
			}
			if !sameSpec(list[1].Upstream, beta) || list[1].UpdatedAt.IsZero() {
				t.Errorf("beta came back as %+v, want %+v with its time", list[1], beta)
			}
			heard(func() {
				deleted, err := writer.Delete(t.Context(), "beta")
				if err != nil || !deleted {
					t.Fatalf("delete beta: %v, %v", deleted, err)
				}
			})
			if deleted, err := writer.Delete(t.Context(), "beta"); err != nil || deleted {
				t.Errorf("delete beta again: %v, %v; want false", deleted, err)
			}
			if list, _ := follower.List(t.Context()); len(list) != 1 || list[0].Name != "alpha" {
				t.Errorf("after the delete: %+v", list)
			}
		})
	}
}

// fullUpstream sets every field the API carries.
func fullUpstream(name string) Upstream {
	return Upstream{
		Name: name, URL: "https://upstream.example/mcp", Transport: TransportSSE, Prefix: "b",
		Tools:       Filter{Include: []string{"search_*"}, Exclude: []string{"search_private"}},
		Resources:   Filter{Exclude: []string{"file:///secret/*"}},
		Prompts:     Filter{Include: []string{"greet"}},
		Auth:        Auth{OAuth: OAuthClient{TokenURL: "https://idp.example/token", ClientID: "mesh", ClientSecretFile: "/run/secrets/client", Scopes: []string{"a", "b"}, Audience: "aud", Resource: "https://upstream.example"}},
		CallTimeout: 20 * time.Second,
	}
}

// The message carries every field of an upstream there and back; answers mask the
// values of a stdio upstream's environment and name the source.
func TestUpstreamMessage(t *testing.T) {
	for _, u := range []Upstream{
		fullUpstream("full"),
		{Name: "bearer", URL: "http://127.0.0.1:9/mcp", Auth: Auth{BearerFile: "/run/secrets/token"}},
		{Name: "exchange", URL: "https://upstream.example/mcp", Auth: Auth{TokenExchange: TokenExchange{
			TokenURL: "https://idp.example/token", ClientID: "mesh", ClientSecretFile: "/run/secrets/client", Scopes: []string{"mcp"},
			Audience: "upstream", Resource: "https://upstream.example/mcp", AssertionJWKSURL: "https://mesh.example/.well-known/jwks.json", AssertionIssuer: "mesh",
		}}},
		{Name: "stdio", Command: []string{"server", "--stdio"}, Env: []string{"API_KEY=s3cret", "MODE=fast"}},
	} {
		back := upstreamFromProto(upstreamProto(u))
		if !sameSpec(back, u) || !reflect.DeepEqual(back.Auth, u.Auth) || back.CallTimeout != u.CallTimeout {
			t.Errorf("%s: came back as %+v", u.Name, back)
		}
		if err := back.validate("upstream"); err != nil {
			t.Errorf("%s: %v", u.Name, err)
		}
	}
	answer := upstreamAnswer(Upstream{Name: "stdio", Command: []string{"server"}, Env: []string{"API_KEY=s3cret", "EMPTY="}}, federationv1.UpstreamSource_UPSTREAM_SOURCE_CONFIG, nil)
	if got := strings.Join(answer.GetEnv(), " "); strings.Contains(got, "s3cret") || !slices.Equal(answer.GetEnv(), []string{"API_KEY=****", "EMPTY=****"}) {
		t.Errorf("env shown as %q", got)
	}
	if answer.GetSource() != federationv1.UpstreamSource_UPSTREAM_SOURCE_CONFIG {
		t.Errorf("source %v", answer.GetSource())
	}
}
