package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

// A 2026-07-28 upstream's multi round-trip needs no federation memory: the retry of
// its input_required is served by whichever federation instance it reaches.

// A tool call's and a prompt's input_required, asked through one federation instance,
// leaves nothing waiting there; their retries are served by a second instance
// (another upstream object with its own connection), after the first was stopped.
func TestRelayRetryReachesAnotherFederationInstance(t *testing.T) {
	url := samplingUpstream(t, true)
	first, onFirst, stopFirst := federationInstance(t, url, "", 0)
	_, onSecond, _ := federationInstance(t, url, "", 0)

	resp, err := callOnce(t, onFirst, `{"question":"what is six times seven?"}`, samplingClient("s1"))
	if err != nil {
		t.Fatal(err)
	}
	key, state := askedSampling(t, resp, "what is six times seven?")
	prompt, err := onFirst.GetPrompt(t.Context(), &providerv1.GetPromptRequest{Name: "brief", Context: elicitingClient("s1")})
	if err != nil {
		t.Fatal(err)
	}
	if prompt.GetInputRequired().GetInputRequests()["context"] == nil {
		t.Fatalf("want the prompt's input_required, got %v", prompt)
	}
	if n := pendingCalls(first); n != 0 {
		t.Errorf("%d calls wait on the federation that asked; want none", n)
	}
	stopFirst()

	resp, err = callOnce(t, onSecond, `{"question":"what is six times seven?"}`, answered(samplingClient("s1"), key, state, "42"))
	if err != nil {
		t.Fatal(err)
	}
	if text, isErr := resultText(t, resp); isErr || text != "the LLM (test-llm) said: 42" {
		t.Errorf("the retry on the second instance: %q (error %v)", text, isErr)
	}
	retry := elicitingClient("s1")
	retry.InputResponses = map[string][]byte{"context": []byte(`{"action":"accept","content":{"context":"the quarterly report"}}`)}
	retry.RequestState = prompt.GetInputRequired().GetRequestState()
	prompt, err = onSecond.GetPrompt(t.Context(), &providerv1.GetPromptRequest{Name: "brief", Context: retry})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(prompt.GetMessages()), "Context: the quarterly report (accept)") {
		t.Errorf("the prompt's retry on the second instance: %v", prompt)
	}
}

// A retry state that is not the federation's, or was issued for another upstream,
// tool, prompt or caller, or counts rounds out of bounds, is refused with
// InvalidArgument (-32602 for the client) saying why and how to start again. (The
// session's signature refuses forged and rebound states before a provider sees them;
// these checks stand behind it.)
func TestRelayRefusesForeignRetryStates(t *testing.T) {
	u, c := relayFixture(t, "", 0)
	resp, err := callOnce(t, c, `{"question":"?"}`, samplingClient("s1"))
	if err != nil {
		t.Fatal(err)
	}
	key, state := askedSampling(t, resp, "?")
	owner := ownerOf(samplingClient("s1"))
	forged := func(r retryState) []byte {
		b, err := r.encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	valid := retryState{Upstream: u.cfg.Name, What: "tool sample", Owner: owner[:], Round: 1, State: "asked:?"}
	for _, tc := range []struct {
		name, tool, why string
		state           []byte
		rc              *mcpv1.RequestContext
	}{
		{"another client", "sample", "was issued to another client", state, samplingClient("s2")},
		{"another tool", "roots", "was issued for tool sample, not tool roots", state, samplingClient("s1")},
		{"another upstream", "sample", `was issued for upstream "elsewhere", not "sampler"`,
			forged(retryState{Upstream: "elsewhere", What: valid.What, Owner: valid.Owner, Round: 1}), samplingClient("s1")},
		{"not JSON", "sample", "is not one the federation issued", []byte(retryStatePrefix + "{not json"), samplingClient("s1")},
		{"unknown members", "sample", "is not one the federation issued",
			[]byte(retryStatePrefix + `{"upstream":"sampler","what":"tool sample","round":1,"admin":true}`), samplingClient("s1")},
		{"no rounds", "sample", "counts 0 rounds", forged(retryState{Upstream: valid.Upstream, What: valid.What, Owner: valid.Owner}), samplingClient("s1")},
		{"too many rounds", "sample", fmt.Sprintf("counts %d rounds", maxInputRounds+1),
			forged(retryState{Upstream: valid.Upstream, What: valid.What, Owner: valid.Owner, Round: maxInputRounds + 1}), samplingClient("s1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := callTool(t, c, tc.tool, `{"question":"?"}`, answered(tc.rc, key, tc.state, "42"))
			if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), tc.why) ||
				!strings.Contains(st.Message(), "Call the tool again without inputResponses and requestState") {
				t.Errorf("got %v; want InvalidArgument saying %q", err, tc.why)
			}
		})
	}
	// The state itself still serves its own caller.
	resp, err = callOnce(t, c, `{"question":"?"}`, answered(samplingClient("s1"), key, forged(valid), "42"))
	if err != nil {
		t.Fatal(err)
	}
	if text, isErr := resultText(t, resp); isErr || text != "the LLM (test-llm) said: 42" {
		t.Errorf("the caller's own retry: %q (error %v)", text, isErr)
	}
}

// naggingUpstream is a Go SDK 2026-07-28 MCP server whose tool "nag" reports progress
// (the round it is in) and asks for a confirmation again on every call, with the
// round in its requestState; it fails when a retry lacks the previous round's state or
// the client's answer.
func naggingUpstream(t *testing.T) string {
	t.Helper()
	s := mcp.NewServer(&mcp.Implementation{Name: "nagger", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "nag", Description: "Asks again, and again."},
		func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			round := 1
			if state := req.Params.RequestState; state != "" {
				n, err := strconv.Atoi(strings.TrimPrefix(state, "round "))
				if err != nil {
					return nil, nil, fmt.Errorf("request state %q", state)
				}
				if answer, ok := req.Params.InputResponses["again"].(*mcp.ElicitResult); !ok || answer.Action != "accept" {
					return nil, nil, fmt.Errorf("round %d: no answer to round %d", n+1, n)
				}
				round = n + 1
			}
			if token := req.Params.GetProgressToken(); token != nil {
				if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: float64(round)}); err != nil {
					return nil, nil, err
				}
			}
			return &mcp.CallToolResult{
				InputRequests: mcp.InputRequestMap{"again": &mcp.ElicitParams{Message: fmt.Sprintf("Round %d: go on?", round),
					RequestedSchema: json.RawMessage(`{"type":"object","properties":{}}`)}},
				RequestState: fmt.Sprintf("round %d", round),
			}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "shed", Description: "Asks for an immediate retry once."},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			if req.Params.RequestState != "try again" {
				return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{}, RequestState: "try again"}, nil, nil
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "served on the retry"}}}, nil, nil
		})
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: true}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// An input_required without input requests (the upstream sheds load and asks for an
// immediate retry) is relayed with a retry state, and the retry reaches the upstream
// with its requestState.
func TestRelayInputRequiredWithoutRequests(t *testing.T) {
	_, c, _ := federationInstance(t, naggingUpstream(t), "", 0)
	events, err := callEvents(t, c, "shed", elicitingClient("s1"))
	if err != nil {
		t.Fatal(err)
	}
	ir := events[len(events)-1].GetInputRequired()
	if ir == nil || len(ir.GetInputRequests()) != 0 || !isRetryState(ir.GetRequestState()) {
		t.Fatalf("want input_required with a retry state and no input requests, got %v", events)
	}
	rc := elicitingClient("s1")
	rc.RequestState = ir.GetRequestState()
	resp, err := callTool(t, c, "shed", `{}`, rc)
	if err != nil {
		t.Fatal(err)
	}
	if text, isErr := resultText(t, resp); isErr || text != "served on the retry" {
		t.Errorf("the retry: %q (error %v)", text, isErr)
	}
}

// callEvents runs one CallTool stream to its end and returns every event.
func callEvents(t *testing.T, c providerv1.ProviderServiceClient, name string, rc *mcpv1.RequestContext) ([]*providerv1.CallToolResponse, error) {
	t.Helper()
	stream, err := c.CallTool(t.Context(), &providerv1.CallToolRequest{Name: name, Arguments: []byte(`{}`), Context: rc})
	if err != nil {
		return nil, err
	}
	var events []*providerv1.CallToolResponse
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return events, err
		}
		events = append(events, resp)
	}
}

// The round count travels in the retry state: a tool that asks on every call gets
// maxInputRounds rounds of client input, its retries alternating between two
// federation instances, and the call after that fails saying so. Each round's
// progress reaches that round's own stream, before its input_required.
func TestRelayStopsAfterMaxInputRounds(t *testing.T) {
	url := naggingUpstream(t)
	_, one, _ := federationInstance(t, url, "", 0)
	_, two, _ := federationInstance(t, url, "", 0)
	instances := []providerv1.ProviderServiceClient{one, two}
	rc := elicitingClient("s1")
	rc.ProgressRequested = true
	for round := 1; round <= maxInputRounds; round++ {
		events, err := callEvents(t, instances[round%2], "nag", rc)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if len(events) != 2 || events[0].GetProgress().GetProgress() != float64(round) || events[1].GetInputRequired() == nil {
			t.Fatalf("round %d: want its progress and then input_required, got %v", round, events)
		}
		ir := events[1].GetInputRequired()
		if !strings.Contains(string(ir.GetInputRequests()["again"]), fmt.Sprintf("Round %d: go on?", round)) {
			t.Fatalf("round %d asked %s", round, ir.GetInputRequests()["again"])
		}
		rc = elicitingClient("s1")
		rc.ProgressRequested = true
		rc.InputResponses = map[string][]byte{"again": []byte(`{"action":"accept","content":{}}`)}
		rc.RequestState = ir.GetRequestState()
	}
	_, err := callEvents(t, instances[(maxInputRounds+1)%2], "nag", rc)
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), fmt.Sprintf("upstream sampler asked for client input %d times; giving up", maxInputRounds)) {
		t.Errorf("round %d: %v; want the federation to give up", maxInputRounds+1, err)
	}
}
