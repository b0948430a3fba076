package principal

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"
)

func TestRoundTripThroughMetadata(t *testing.T) {
	p := &Principal{Subject: "alice", Issuer: "https://idp.example", ClientID: "cli", Scopes: []string{"mcp:tools", "math"},
		Claims: map[string]any{"department": "finance"}, Method: MethodOAuth}
	out, err := AppendToOutgoing(NewContext(context.Background(), p))
	if err != nil {
		t.Fatal(err)
	}
	md, _ := metadata.FromOutgoingContext(out)
	// What the server sees: the metadata only, no context value.
	in, ok, err := FromIncoming(metadata.NewIncomingContext(context.Background(), md))
	if err != nil || !ok {
		t.Fatalf("FromIncoming: ok=%v err=%v", ok, err)
	}
	got, _ := FromContext(in)
	if got.Key() != p.Key() || got.ClientID != "cli" || !got.HasScope("math") || got.Claims["department"] != "finance" {
		t.Fatalf("got %+v, want %+v", got, p)
	}
	if m := got.MissingScopes([]string{"math", "admin", "mcp:tools"}); len(m) != 1 || m[0] != "admin" {
		t.Fatalf("MissingScopes = %v, want [admin]", m)
	}
}

func TestFromIncomingRefusesBadEntries(t *testing.T) {
	for name, vals := range map[string][]string{
		"not json":   {"{"},
		"no subject": {`{"iss":"x","method":"oauth"}`},
		"two":        {`{"sub":"a","method":"oauth"}`, `{"sub":"b","method":"oauth"}`},
		"oversized":  {`{"sub":"a","method":"oauth","claims":{"x":"` + strings.Repeat("y", MaxEncodedSize) + `"}}`},
	} {
		t.Run(name, func(t *testing.T) {
			md := metadata.MD{MetadataKey: vals}
			_, ok, err := FromIncoming(metadata.NewIncomingContext(context.Background(), md))
			if ok || !errors.Is(err, ErrMalformed) {
				t.Fatalf("ok=%v err=%v, want ErrMalformed", ok, err)
			}
		})
	}
}

func TestFromIncomingKeepsInProcessPrincipal(t *testing.T) {
	p := &Principal{Subject: "bob", Issuer: "mcpmesh", Method: MethodAPIKey}
	md := metadata.MD{MetadataKey: {`{"sub":"mallory","method":"oauth"}`}}
	ctx := metadata.NewIncomingContext(NewContext(context.Background(), p), md)
	in, ok, err := FromIncoming(ctx)
	got, _ := FromContext(in)
	if err != nil || !ok || got.Subject != "bob" {
		t.Fatalf("got %+v ok=%v err=%v, want the in-process principal bob", got, ok, err)
	}
}

func TestNoPrincipal(t *testing.T) {
	ctx, err := AppendToOutgoing(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := metadata.FromOutgoingContext(ctx); ok {
		t.Fatal("metadata added without a principal")
	}
	if _, ok, err := FromIncoming(context.Background()); ok || err != nil {
		t.Fatalf("ok=%v err=%v, want neither", ok, err)
	}
	var nilP *Principal
	if nilP.HasScope("x") || nilP.Key() != "" {
		t.Fatal("nil principal holds something")
	}
}

// A principal is encoded once per request context, and one received from another
// process is passed on as the bytes that arrived.
func TestWireFormReused(t *testing.T) {
	p := &Principal{Subject: "carol", Issuer: "mcpmesh", Method: MethodAPIKey}
	ctx := NewContext(context.Background(), p)
	first, err := AppendToOutgoing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, _ := AppendToOutgoing(ctx)
	a := metadata.ValueFromIncomingContext(metadata.NewIncomingContext(context.Background(), mustOutgoing(t, first)), MetadataKey)
	b := metadata.ValueFromIncomingContext(metadata.NewIncomingContext(context.Background(), mustOutgoing(t, second)), MetadataKey)
	if len(a) != 1 || len(b) != 1 || a[0] != b[0] {
		t.Fatalf("two encodings differ: %q %q", a, b)
	}
	c := ctx.Value(contextKey{}).(*carried)
	if c.wire != a[0] {
		t.Fatal("the wire form is not kept in the context value")
	}
	// Received with a different (but equivalent) spelling: forwarded byte for byte.
	received := `{"method":"api_key","sub":"carol","iss":"mcpmesh"}`
	in, ok, err := FromIncoming(metadata.NewIncomingContext(context.Background(), metadata.MD{MetadataKey: {received}}))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	out, _ := AppendToOutgoing(in)
	if got := mustOutgoing(t, out).Get(MetadataKey); len(got) != 1 || got[0] != received {
		t.Fatalf("forwarded %q, want the received bytes %q", got, received)
	}
}

func mustOutgoing(t *testing.T, ctx context.Context) metadata.MD {
	t.Helper()
	md, ok := metadata.FromOutgoingContext(ctx)
	if !ok {
		t.Fatal("no outgoing metadata")
	}
	return md
}

func BenchmarkAppendToOutgoing(b *testing.B) {
	p := &Principal{Subject: "alice", Issuer: "https://idp.example", Scopes: []string{"mcp:tools"},
		Claims: map[string]any{"department": "finance", "email": "alice@example.com"}, Method: MethodOAuth}
	ctx := NewContext(context.Background(), p)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AppendToOutgoing(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func TestOwnerOf(t *testing.T) {
	alice := &Principal{Subject: "alice", Issuer: "https://idp.example", Method: MethodOAuth}
	aliceAgain := &Principal{Subject: "alice", Issuer: "https://idp.example", Scopes: []string{"x"}, Method: MethodOAuth}
	aliceElsewhere := &Principal{Subject: "alice", Issuer: "https://other.example", Method: MethodOAuth}
	own := func(p *Principal) string { return OwnerOf(NewContext(context.Background(), p)) }
	if own(alice) == "" || own(alice) != own(aliceAgain) {
		t.Fatal("one caller (issuer and subject) must own alike whatever its scopes")
	}
	if own(alice) == own(aliceElsewhere) {
		t.Fatal("the same subject of another issuer is another owner")
	}
	if strings.Contains(own(alice), "alice") {
		t.Fatal("the owner keeps the identity in clear")
	}
	if OwnerOf(context.Background()) != "" || own(Anonymous) != "" {
		t.Fatal("no principal, or the anonymous one: no owner")
	}
}

// With authentication off every request carries the same anonymous principal: its wire
// form is made once, and receiving it gives back that same principal without a decode.
func TestAnonymousCrossesHopsWithoutCoding(t *testing.T) {
	out, err := AppendToOutgoing(NewContext(context.Background(), Anonymous))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Encode(Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	md := mustOutgoing(t, out)
	if got := md.Get(MetadataKey); len(got) != 1 || got[0] != string(want) {
		t.Fatalf("sent %q, want %q", got, want)
	}
	in, ok, err := FromIncoming(metadata.NewIncomingContext(context.Background(), md))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if got, _ := FromContext(in); got != Anonymous {
		t.Fatalf("received %+v, want the shared anonymous principal", got)
	}
	if OwnerOf(in) != "" {
		t.Fatal("the anonymous principal received from a peer owns something")
	}
	// The same subject spelled differently is not taken for the anonymous value.
	in, ok, err = FromIncoming(metadata.NewIncomingContext(context.Background(),
		metadata.MD{MetadataKey: {`{"method":"anonymous","sub":"anonymous","iss":"mcpmesh"}`}}))
	if got, _ := FromContext(in); err != nil || !ok || got == Anonymous || got.Key() != Anonymous.Key() {
		t.Fatalf("got %+v ok=%v err=%v, want a decoded equal of Anonymous", got, ok, err)
	}
}

func BenchmarkFromIncoming(b *testing.B) {
	for name, p := range map[string]*Principal{
		"anonymous": Anonymous,
		"oauth":     {Subject: "alice", Issuer: "https://idp.example", Scopes: []string{"mcp:tools"}, Method: MethodOAuth},
	} {
		b.Run(name, func(b *testing.B) {
			out, err := AppendToOutgoing(NewContext(context.Background(), p))
			if err != nil {
				b.Fatal(err)
			}
			md, _ := metadata.FromOutgoingContext(out)
			ctx := metadata.NewIncomingContext(context.Background(), md)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := FromIncoming(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A prepared principal gives every request the same context value, and what hops derive
// from it is what they would derive from the principal unprepared.
func TestPrepareSharesWhatHopsDerive(t *testing.T) {
	fresh := func() *Principal {
		return &Principal{Subject: "ci", Issuer: "mcpmesh", ClientID: "c", Scopes: []string{"a", "b"}, Method: MethodAPIKey}
	}
	prepared, err := Prepare(fresh())
	if err != nil {
		t.Fatal(err)
	}
	plain := NewContext(context.Background(), fresh())
	one, two := NewContext(context.Background(), prepared), NewContext(context.Background(), prepared)
	if one.Value(contextKey{}) != two.Value(contextKey{}) {
		t.Fatal("two requests of a prepared principal carry different values")
	}
	if OwnerOf(one) == "" || OwnerOf(one) != OwnerOf(plain) || Fingerprint(one) != Fingerprint(plain) {
		t.Fatalf("prepared owner/fingerprint %q/%q, unprepared %q/%q", OwnerOf(one), Fingerprint(one), OwnerOf(plain), Fingerprint(plain))
	}
	outPrepared, err := AppendToOutgoing(one)
	if err != nil {
		t.Fatal(err)
	}
	outPlain, err := AppendToOutgoing(plain)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := metadata.FromOutgoingContext(outPrepared)
	b, _ := metadata.FromOutgoingContext(outPlain)
	if got, want := a.Get(MetadataKey), b.Get(MetadataKey); len(got) != 1 || len(want) != 1 || got[0] != want[0] {
		t.Fatalf("wire forms differ: %q and %q", got, want)
	}

	// Fingerprints tell scopes apart; no principal is the anonymous one.
	fewer := fresh()
	fewer.Scopes = []string{"a"}
	if Fingerprint(NewContext(context.Background(), fewer)) == Fingerprint(one) {
		t.Fatal("two scope sets, one fingerprint")
	}
	if Fingerprint(context.Background()) != Fingerprint(NewContext(context.Background(), Anonymous)) {
		t.Fatal("no principal and the anonymous one have different fingerprints")
	}

	// A principal too large for the wire is left as it was, and still usable.
	huge := fresh()
	huge.Claims = map[string]any{"blob": strings.Repeat("x", MaxEncodedSize)}
	if _, err := Prepare(huge); err == nil || huge.prepared != nil {
		t.Fatalf("Prepare of an oversized principal: %v, prepared %v", err, huge.prepared != nil)
	}
	if _, err := AppendToOutgoing(NewContext(context.Background(), huge)); err == nil {
		t.Fatal("an oversized principal crossed a hop")
	}
}
