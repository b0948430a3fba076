package session

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
)

// taskFixture is catalogueFixture plus tools marked for tasks: echo is "optional"
// already (fullTool); task_block blocks until cancelled, task_required must run as a
// task, task_struct returns what its arguments ask for.
func taskFixture(providerAddr, downAddr string) *registryv1.WatchCatalogueResponse {
	snap := catalogueFixture(providerAddr, downAddr)
	marked := func(exposed, own, support string) *registryv1.RoutedTool {
		return &registryv1.RoutedTool{Name: exposed, Provider: "p", Tool: &mcpv1.Tool{
			Name: own, InputSchema: []byte(`{"type":"object"}`), Execution: []byte(`{"taskSupport":"` + support + `"}`),
		}}
	}
	snap.Tools = append(snap.Tools,
		marked("task_block", "p_block", "optional"),
		marked("task_required", "p_echo", "required"),
		marked("task_struct", "p_struct", "optional"),
		marked("task_ask", "p_ask", "optional"),
		marked("task_ask_first", "p_ask_first", "required"),
	)
	return snap
}

const extensionCaps = `"io.modelcontextprotocol/clientCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}}`

// statelessTasks is a stateless request from a client that declared the tasks
// extension.
func statelessTasks(method, params string) *sessionv1.HandleRequest {
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",` + extensionCaps + `}`
	if params == "" || params == "{}" {
		params = "{" + meta + "}"
	} else {
		params = "{" + meta + "," + strings.TrimPrefix(params, "{")
	}
	return stateless(method, params)
}

type taskView struct {
	TaskID        string          `json:"taskId"`
	Status        string          `json:"status"`
	StatusMessage string          `json:"statusMessage"`
	CreatedAt     string          `json:"createdAt"`
	LastUpdatedAt string          `json:"lastUpdatedAt"`
	TTL           *int64          `json:"ttl"`
	TTLMs         *int64          `json:"ttlMs"`
	PollInterval  *int64          `json:"pollInterval"`
	ResultType    string          `json:"resultType"`
	Result        json.RawMessage `json:"result"`
	Error         *struct {
		Code    int32  `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func decodeTask(t *testing.T, raw []byte) taskView {
	t.Helper()
	var v taskView
	if err := json.Unmarshal(raw, &v); err != nil || v.TaskID == "" || v.Status == "" || v.CreatedAt == "" || v.LastUpdatedAt == "" {
		t.Fatalf("not a task: %s (%v)", raw, err)
	}
	if _, err := time.Parse(time.RFC3339, v.CreatedAt); err != nil {
		t.Fatalf("createdAt %q is not ISO 8601: %v", v.CreatedAt, err)
	}
	return v
}

// createTask calls a tool as a 2025-11-25 task and returns the task.
func (h *harness) createTask(t *testing.T, sess *sessionv1.Session, params string) taskView {
	t.Helper()
	ev := h.mustResult(t, stateful(sess, "tools/call", params))
	var created struct {
		Task json.RawMessage `json:"task"`
	}
	if err := json.Unmarshal(ev.rawResult, &created); err != nil || created.Task == nil {
		t.Fatalf("tools/call with params.task = %s, want a CreateTaskResult", ev.rawResult)
	}
	return decodeTask(t, created.Task)
}

func taskParams(id string) string { return `{"taskId":"` + id + `"}` }

// TestTasks2025Lifecycle: a task-augmented tools/call answers with a task at once;
// tasks/result waits for the tool's result; tasks/get and tasks/list show it.
func TestTasks2025Lifecycle(t *testing.T) {
	h := newHarnessWith(t, nil, taskFixture, nil)
	init, err := h.client.Initialize(t.Context(), &sessionv1.InitializeRequest{
		Params: []byte(`{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test","version":"1"}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(init.GetResult()), `"tasks":{"list":{},"cancel":{},"requests":{"tools":{"call":{}}}}`) {
		t.Fatalf("2025-11-25 capabilities lack tasks: %s", init.GetResult())
	}
	sess := init.GetSession()

	task := h.createTask(t, sess, `{"name":"echo","arguments":{"x":1},"task":{"ttl":60000}}`)
	if task.Status != "working" || task.TTL == nil || *task.TTL != 60000 || task.PollInterval == nil {
		t.Fatalf("created task %+v", task)
	}
	res := h.mustResult(t, stateful(sess, "tasks/result", taskParams(task.TaskID)))
	var payload struct {
		Content []struct{ Text string }
		Meta    map[string]struct {
			TaskID string `json:"taskId"`
		} `json:"_meta"`
	}
	if err := json.Unmarshal(res.rawResult, &payload); err != nil || len(payload.Content) != 1 || payload.Content[0].Text != `{"x":1}` ||
		payload.Meta["io.modelcontextprotocol/related-task"].TaskID != task.TaskID {
		t.Fatalf("tasks/result = %s", res.rawResult)
	}
	got := decodeTask(t, h.mustResult(t, stateful(sess, "tasks/get", taskParams(task.TaskID))).rawResult)
	if got.Status != "completed" || got.TaskID != task.TaskID {
		t.Fatalf("tasks/get after the result = %+v", got)
	}
	// Cancelling a finished task is refused.
	h.mustError(t, stateful(sess, "tasks/cancel", taskParams(task.TaskID)), -32602)

	// A tool error fails the task; tasks/result still returns the tool's result.
	failed := h.createTask(t, sess, `{"name":"task_struct","arguments":{"isError":true},"task":{}}`)
	res = h.mustResult(t, stateful(sess, "tasks/result", taskParams(failed.TaskID)))
	if !strings.Contains(string(res.rawResult), `"isError":true`) {
		t.Fatalf("tasks/result of a tool error = %s", res.rawResult)
	}
	if got := decodeTask(t, h.mustResult(t, stateful(sess, "tasks/get", taskParams(failed.TaskID))).rawResult); got.Status != "failed" {
		t.Fatalf("task of a tool error is %s, want failed", got.Status)
	}

	// tasks/list pages the session's tasks (page size 3), oldest first.
	h.createTask(t, sess, `{"name":"task_required","arguments":{},"task":{}}`)
	h.createTask(t, sess, `{"name":"task_required","arguments":{},"task":{}}`)
	var listed []string
	cursor := ""
	for page := 0; page < 5; page++ {
		params := `{}`
		if cursor != "" {
			params = `{"cursor":"` + cursor + `"}`
		}
		var out struct {
			Tasks      []json.RawMessage `json:"tasks"`
			NextCursor string            `json:"nextCursor"`
		}
		if err := json.Unmarshal(h.mustResult(t, stateful(sess, "tasks/list", params)).rawResult, &out); err != nil {
			t.Fatal(err)
		}
		for _, raw := range out.Tasks {
			listed = append(listed, decodeTask(t, raw).TaskID)
		}
		if cursor = out.NextCursor; cursor == "" {
			break
		}
	}
	// (Tasks created in the same millisecond are ordered by id.)
	if len(listed) != 4 || !slices.Contains(listed, task.TaskID) || !slices.Contains(listed, failed.TaskID) ||
		len(slices.Compact(slices.Sorted(slices.Values(listed)))) != 4 {
		t.Fatalf("tasks/list = %v, want the 4 tasks once each", listed)
	}
	h.mustError(t, stateful(sess, "tasks/list", `{"cursor":"!!"}`), -32602)
}

// TestTasks2025Cancel: tasks/cancel stops the provider call (its gRPC context ends)
// and the task stays cancelled.
func TestTasks2025Cancel(t *testing.T) {
	h := newHarnessWith(t, nil, taskFixture, nil)
	sess := h.initialize(t, "2025-11-25")
	task := h.createTask(t, sess, `{"name":"task_block","task":{}}`)
	h.waitBlockStarted(t, func() string {
		return string(h.mustResult(t, stateful(sess, "tasks/get", taskParams(task.TaskID))).rawResult)
	})
	got := decodeTask(t, h.mustResult(t, stateful(sess, "tasks/get", taskParams(task.TaskID))).rawResult)
	if got.Status != "working" {
		t.Fatalf("running task is %s", got.Status)
	}
	cancelled := decodeTask(t, h.mustResult(t, stateful(sess, "tasks/cancel", taskParams(task.TaskID))).rawResult)
	if cancelled.Status != "cancelled" {
		t.Fatalf("tasks/cancel = %+v", cancelled)
	}
	select {
	case err := <-h.provider.blockEnded:
		if err == nil {
			t.Fatal("provider call ended without a cancellation")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the provider call was not cancelled")
	}
	h.mustError(t, stateful(sess, "tasks/cancel", taskParams(task.TaskID)), -32602)
	h.mustError(t, stateful(sess, "tasks/result", taskParams(task.TaskID)), -32602)
	if got := decodeTask(t, h.mustResult(t, stateful(sess, "tasks/get", taskParams(task.TaskID))).rawResult); got.Status != "cancelled" {
		t.Fatalf("after the run ended the task is %s, want cancelled", got.Status)
	}
}

// TestTasks2025Errors: tool-level negotiation, unknown ids, other sessions' tasks and
// versions without tasks.
func TestTasks2025Errors(t *testing.T) {
	h := newHarnessWith(t, nil, taskFixture, nil)
	sess := h.initialize(t, "2025-11-25")
	other := h.initialize(t, "2025-11-25")
	task := h.createTask(t, sess, `{"name":"echo","task":{}}`)
	tests := []struct {
		name string
		sess *sessionv1.Session
		method,
		params string
		code int32
	}{
		{"required tool without params.task", sess, "tools/call", `{"name":"task_required","arguments":{}}`, -32601},
		{"task for a tool without task support", sess, "tools/call", `{"name":"block","task":{}}`, -32601},
		{"task is not an object", sess, "tools/call", `{"name":"echo","task":1}`, -32602},
		{"negative ttl", sess, "tools/call", `{"name":"echo","task":{"ttl":-1}}`, -32602},
		{"unknown task id", sess, "tasks/get", taskParams("nope"), -32602},
		{"missing task id", sess, "tasks/get", `{}`, -32602},
		{"unknown task result", sess, "tasks/result", taskParams("nope"), -32602},
		{"unknown task cancel", sess, "tasks/cancel", taskParams("nope"), -32602},
		{"another session's task: get", other, "tasks/get", taskParams(task.TaskID), -32602},
		{"another session's task: result", other, "tasks/result", taskParams(task.TaskID), -32602},
		{"another session's task: cancel", other, "tasks/cancel", taskParams(task.TaskID), -32602},
		{"no tasks/update in 2025-11-25", sess, "tasks/update", taskParams(task.TaskID), -32601},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := h.mustError(t, stateful(tt.sess, tt.method, tt.params), tt.code)
			if e.GetMessage() == "" {
				t.Fatal("error without a message")
			}
		})
	}
	var list struct {
		Tasks []json.RawMessage `json:"tasks"`
	}
	if err := json.Unmarshal(h.mustResult(t, stateful(other, "tasks/list", `{}`)).rawResult, &list); err != nil || len(list.Tasks) != 0 {
		t.Fatalf("another session lists %d tasks (%v)", len(list.Tasks), err)
	}
	// The task of another session is still there for its owner.
	h.mustResult(t, stateful(sess, "tasks/result", taskParams(task.TaskID)))

	// Before 2025-11-25 there are no tasks: params.task means nothing, the methods do not exist.
	old := h.initialize(t, "2025-06-18")
	res := h.mustResult(t, stateful(old, "tools/call", `{"name":"echo","arguments":{},"task":{}}`))
	if _, ok := res.result["content"]; !ok {
		t.Fatalf("2025-06-18 tools/call with params.task = %s, want a plain result", res.rawResult)
	}
	h.mustError(t, stateful(old, "tasks/get", taskParams(task.TaskID)), -32601)
	h.mustResult(t, stateful(old, "tools/call", `{"name":"task_required","arguments":{}}`))
}

// pollTask polls tasks/get (stateless) until the task is terminal.
func (h *harness) pollTask(t *testing.T, id string) taskView {
	t.Helper()
	var last taskView
	waitFor(t, "the task to end", func() bool {
		last = decodeTask(t, h.mustResult(t, statelessTasks("tasks/get", taskParams(id))).rawResult)
		return last.Status == "completed" || last.Status == "failed" || last.Status == "cancelled"
	})
	return last
}

// TestTasksExtension2026: a client that declares io.modelcontextprotocol/tasks gets
// a task handle for a task tool, polls it with tasks/get and finds the result inlined.
func TestTasksExtension2026(t *testing.T) {
	h := newHarnessWith(t, nil, taskFixture, nil)
	disc := h.mustResult(t, stateless("server/discover", `{`+statelessMeta+`}`))
	if !strings.Contains(string(disc.rawResult), `"extensions":{"io.modelcontextprotocol/tasks":{}}`) {
		t.Fatalf("discover does not advertise the tasks extension: %s", disc.rawResult)
	}
	created := h.mustResult(t, statelessTasks("tools/call", `{"name":"echo","arguments":{"y":2}}`))
	task := decodeTask(t, created.rawResult)
	if task.ResultType != "task" || task.Status != "working" || task.TTLMs == nil || len(task.TaskID) < 40 {
		t.Fatalf("CreateTaskResult = %s", created.rawResult)
	}
	done := h.pollTask(t, task.TaskID)
	if done.Status != "completed" || done.ResultType != "complete" || !strings.Contains(string(done.Result), `{\"y\":2}`) {
		t.Fatalf("finished task = %+v (%s)", done, done.Result)
	}
	// A tool error completes the task in this generation.
	toolErr := decodeTask(t, h.mustResult(t, statelessTasks("tools/call", `{"name":"task_struct","arguments":{"isError":true}}`)).rawResult)
	if got := h.pollTask(t, toolErr.TaskID); got.Status != "completed" || !strings.Contains(string(got.Result), `"isError":true`) {
		t.Fatalf("task of a tool error = %+v (%s)", got, got.Result)
	}
	ack := h.mustResult(t, statelessTasks("tasks/update", `{"taskId":"`+task.TaskID+`","inputResponses":{}}`))
	if string(ack.rawResult) != `{"resultType":"complete"}` {
		t.Fatalf("tasks/update ack = %s", ack.rawResult)
	}
	// Without the extension: a plain result, and the task methods need the capability.
	plain := h.mustResult(t, stateless("tools/call", `{`+statelessMeta+`,"name":"echo","arguments":{}}`))
	if plain.result["resultType"] != "complete" {
		t.Fatalf("tools/call without the extension = %s", plain.rawResult)
	}
	h.mustError(t, stateless("tools/call", `{`+statelessMeta+`,"name":"task_required","arguments":{}}`), -32021)
	h.mustError(t, stateless("tasks/get", `{`+statelessMeta+`,"taskId":"`+task.TaskID+`"}`), -32021)
	// Unknown ids, methods of the other generation, stateful tasks.
	h.mustError(t, statelessTasks("tasks/get", taskParams("nope")), -32602)
	h.mustError(t, statelessTasks("tasks/cancel", taskParams("nope")), -32602)
	h.mustError(t, statelessTasks("tasks/update", `{"taskId":"`+task.TaskID+`"}`), -32602)
	h.mustError(t, statelessTasks("tasks/list", `{}`), -32601)
	h.mustError(t, statelessTasks("tasks/result", taskParams(task.TaskID)), -32601)
	sess := h.initialize(t, "2025-11-25")
	statefulTask := h.createTask(t, sess, `{"name":"echo","task":{}}`)
	h.mustError(t, statelessTasks("tasks/get", taskParams(statefulTask.TaskID)), -32602)
	h.mustError(t, stateful(sess, "tasks/get", taskParams(task.TaskID)), -32602)
}

// TestTasksExtensionCancel: tasks/cancel acknowledges, the provider call stops and
// the task ends cancelled.
func TestTasksExtensionCancel(t *testing.T) {
	h := newHarnessWith(t, nil, taskFixture, nil)
	task := decodeTask(t, h.mustResult(t, statelessTasks("tools/call", `{"name":"task_block","arguments":{}}`)).rawResult)
	h.waitBlockStarted(t, func() string {
		return string(h.mustResult(t, statelessTasks("tasks/get", taskParams(task.TaskID))).rawResult)
	})
	if ack := h.mustResult(t, statelessTasks("tasks/cancel", taskParams(task.TaskID))); string(ack.rawResult) != `{"resultType":"complete"}` {
		t.Fatalf("tasks/cancel ack = %s", ack.rawResult)
	}
	if err := <-h.provider.blockEnded; err == nil {
		t.Fatal("provider call ended without a cancellation")
	}
	if got := h.pollTask(t, task.TaskID); got.Status != "cancelled" {
		t.Fatalf("task is %s, want cancelled", got.Status)
	}
	// Cancelling a terminal task is acknowledged too (cancellation is cooperative).
	h.mustResult(t, statelessTasks("tasks/cancel", taskParams(task.TaskID)))
}

// TestTasksAcrossReplicas: with a database, a task created on one replica is polled
// and cancelled through another; the running replica hears of the cancellation and
// stops the provider call.
func TestTasksAcrossReplicas(t *testing.T) {
	db := newDB(t)
	a := newHarnessWith(t, db, taskFixture, func(c *Config) { c.NotifyPollInterval = 200 * time.Millisecond })
	b := newHarnessWith(t, db, taskFixture, func(c *Config) { c.NotifyPollInterval = 200 * time.Millisecond })

	task := decodeTask(t, a.mustResult(t, statelessTasks("tools/call", `{"name":"task_block","arguments":{}}`)).rawResult)
	a.waitBlockStarted(t, func() string {
		return string(a.mustResult(t, statelessTasks("tasks/get", taskParams(task.TaskID))).rawResult)
	})
	if got := decodeTask(t, b.mustResult(t, statelessTasks("tasks/get", taskParams(task.TaskID))).rawResult); got.Status != "working" {
		t.Fatalf("task seen from the other replica is %s", got.Status)
	}
	b.mustResult(t, statelessTasks("tasks/cancel", taskParams(task.TaskID)))
	select {
	case err := <-a.provider.blockEnded:
		if err == nil {
			t.Fatal("provider call ended without a cancellation")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the running replica did not stop the cancelled task")
	}

	// A stateful task: tasks/result on the other replica waits for the end.
	sess := a.initialize(t, "2025-11-25")
	created := a.createTask(t, sess, `{"name":"echo","arguments":{"z":3},"task":{}}`)
	res := b.mustResult(t, stateful(sess, "tasks/result", taskParams(created.TaskID)))
	if !strings.Contains(string(res.rawResult), `{\"z\":3}`) {
		t.Fatalf("tasks/result through the other replica = %s", res.rawResult)
	}

	// A task waiting for input on one replica takes the answer given through the other.
	asking := decodeTask(t, a.mustResult(t, statelessTasksWith(`"roots":{}`, "tools/call",
		`{"name":"task_ask","arguments":{"r":{"method":"roots/list","params":{}}}}`)).rawResult)
	waitFor(t, "the task to wait for input", func() bool {
		return decodeTask(t, b.mustResult(t, statelessTasks("tasks/get", taskParams(asking.TaskID))).rawResult).Status == "input_required"
	})
	b.mustResult(t, statelessTasks("tasks/update", `{"taskId":"`+asking.TaskID+`","inputResponses":{"r":{"roots":[]}}}`))
	if got := b.pollTask(t, asking.TaskID); got.Status != "completed" || !strings.Contains(string(got.Result), `r={\"roots\":[]}`) {
		t.Fatalf("task answered through the other replica = %+v (%s)", got, got.Result)
	}
}

// TestTaskConfigValidate names every bad task key.
func TestTaskConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TaskTimeout, cfg.TaskTTL, cfg.TaskPollInterval = 0, 2*time.Hour, -1
	cfg.TaskMaxTTL = time.Hour
	cfg.TaskMaxPerSession, cfg.TaskMaxRunning = 0, -1
	err := cfg.Validate()
	for _, key := range []string{"session.task_timeout", "session.task_max_ttl", "session.task_poll_interval",
		"session.task_max_per_session", "session.task_max_running"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("Validate() = %v, want a problem with %s", err, key)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// waitBlockStarted waits for the blocking tool's provider call to start; when it does
// not, it fails with what describe says about the task instead of hanging.
func (h *harness) waitBlockStarted(t *testing.T, describe func() string) {
	t.Helper()
	select {
	case <-h.provider.blockStarted:
	case <-time.After(15 * time.Second):
		t.Fatalf("the task's provider call did not start; the task: %s", describe())
	}
}

// statelessTasksWith is statelessTasks with more client capabilities beside the
// extension.
func statelessTasksWith(caps, method, params string) *sessionv1.HandleRequest {
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{` +
		caps + `,"extensions":{"io.modelcontextprotocol/tasks":{}}}}`
	return stateless(method, "{"+meta+","+strings.TrimPrefix(params, "{"))
}

// TestTasksExtensionInput: a task whose provider asks for client input waits in
// input_required with the requests on tasks/get; tasks/update answers them one by one
// (the answered ones leave inputRequests, unknown keys are ignored) and once all are in
// the provider is called again with the answers and its state, and the task completes.
func TestTasksExtensionInput(t *testing.T) {
	h := newHarnessWith(t, nil, taskFixture, nil)
	const caps = `"elicitation":{},"roots":{}`
	const asks = `{"name":"task_ask","arguments":{"a":{"method":"elicitation/create","params":{"message":"m","requestedSchema":{"type":"object"}}},` +
		`"b":{"method":"roots/list","params":{}}}}`
	task := decodeTask(t, h.mustResult(t, statelessTasksWith(caps, "tools/call", asks)).rawResult)
	get := func() (taskView, map[string]json.RawMessage) {
		raw := h.mustResult(t, statelessTasks("tasks/get", taskParams(task.TaskID))).rawResult
		var v struct {
			InputRequests map[string]json.RawMessage `json:"inputRequests"`
		}
		_ = json.Unmarshal(raw, &v)
		return decodeTask(t, raw), v.InputRequests
	}
	var pending map[string]json.RawMessage
	waitFor(t, "the task to wait for input", func() bool {
		var v taskView
		v, pending = get()
		return v.Status == "input_required"
	})
	if len(pending) != 2 || !strings.Contains(string(pending["a"]), "elicitation/create") || !strings.Contains(string(pending["b"]), "roots/list") {
		t.Fatalf("inputRequests = %v", pending)
	}
	update := func(answers string) {
		ack := h.mustResult(t, statelessTasks("tasks/update", `{"taskId":"`+task.TaskID+`","inputResponses":`+answers+`}`))
		if string(ack.rawResult) != `{"resultType":"complete"}` {
			t.Fatalf("tasks/update ack = %s", ack.rawResult)
		}
	}
	update(`{"a":{"action":"accept","content":{}},"stray":{"x":1}}`)
	if v, pending := get(); v.Status != "input_required" || len(pending) != 1 || pending["b"] == nil {
		t.Fatalf("after a partial answer: %s, inputRequests %v", v.Status, pending)
	}
	h.mustError(t, statelessTasks("tasks/update", `{"taskId":"`+task.TaskID+`","inputResponses":{"b":5}}`), -32602)
	update(`{"b":{"roots":[]}}`)
	done := h.pollTask(t, task.TaskID)
	if done.Status != "completed" || !strings.Contains(string(done.Result), `state=provider-state-1 a={\"action\":\"accept\",\"content\":{}} b={\"roots\":[]}`) {
		t.Fatalf("finished task = %+v (%s)", done, done.Result)
	}

	// An input the client did not declare fails the task with -32021.
	noRoots := decodeTask(t, h.mustResult(t, statelessTasksWith(`"elicitation":{}`, "tools/call", asks)).rawResult)
	if got := h.pollTask(t, noRoots.TaskID); got.Status != "failed" || got.Error == nil || got.Error.Code != -32021 {
		t.Fatalf("task asking for an undeclared capability = %+v", got)
	}

	// Cancelling a task that waits for input ends it.
	waiting := decodeTask(t, h.mustResult(t, statelessTasksWith(caps, "tools/call", asks)).rawResult)
	waitFor(t, "the task to wait for input", func() bool {
		return decodeTask(t, h.mustResult(t, statelessTasks("tasks/get", taskParams(waiting.TaskID))).rawResult).Status == "input_required"
	})
	h.mustResult(t, statelessTasks("tasks/cancel", taskParams(waiting.TaskID)))
	if got := h.pollTask(t, waiting.TaskID); got.Status != "cancelled" {
		t.Fatalf("cancelled waiting task = %+v", got)
	}
	update(`{}`) // an update for a task that waits for nothing is acknowledged
}

// TestTaskNotificationsOnListen: a subscriptions/listen stream that follows a task by
// id (notifications.taskIds) gets notifications/tasks with the DetailedTask at each
// change of its status, up to the completed task with its result inlined.
func TestTaskNotificationsOnListen(t *testing.T) {
	h := newHarnessWith(t, nil, taskFixture, nil)
	task := decodeTask(t, h.mustResult(t, statelessTasksWith(`"roots":{}`, "tools/call",
		`{"name":"task_ask","arguments":{"r":{"method":"roots/list","params":{}}}}`)).rawResult)
	waitFor(t, "the task to wait for input", func() bool {
		return decodeTask(t, h.mustResult(t, statelessTasks("tasks/get", taskParams(task.TaskID))).rawResult).Status == "input_required"
	})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	stream, err := h.client.Handle(ctx, statelessTasks("subscriptions/listen", `{"notifications":{"taskIds":["`+task.TaskID+`"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	next := func() *sessionv1.Notification {
		t.Helper()
		resp, err := stream.Recv()
		if err != nil || resp.GetNotification() == nil {
			t.Fatalf("listen stream: %v %v", resp, err)
		}
		return resp.GetNotification()
	}
	if ack := next(); ack.GetMethod() != "notifications/subscriptions/acknowledged" || !strings.Contains(string(ack.GetParams()), `"taskIds":["`+task.TaskID+`"]`) {
		t.Fatalf("first message %s %s", ack.GetMethod(), ack.GetParams())
	}
	h.mustResult(t, statelessTasks("tasks/update", `{"taskId":"`+task.TaskID+`","inputResponses":{"r":{"roots":[]}}}`))
	var statuses []string
	for !slices.Contains(statuses, "completed") {
		n := next()
		var p struct {
			Meta   map[string]json.RawMessage `json:"_meta"`
			TaskID string                     `json:"taskId"`
			Status string                     `json:"status"`
			Result json.RawMessage            `json:"result"`
		}
		if n.GetMethod() != "notifications/tasks" || json.Unmarshal(n.GetParams(), &p) != nil || p.TaskID != task.TaskID || p.Meta["io.modelcontextprotocol/subscriptionId"] == nil {
			t.Fatalf("notification %s %s", n.GetMethod(), n.GetParams())
		}
		if p.Status == "completed" && !strings.Contains(string(p.Result), "roots") {
			t.Fatalf("completed without its result: %s", n.GetParams())
		}
		if len(statuses) > 0 && statuses[len(statuses)-1] == p.Status {
			t.Fatalf("status %s reported twice: %v", p.Status, statuses)
		}
		statuses = append(statuses, p.Status)
	}
	// Each notification carries the task as it is when sent, so changes that follow
	// each other closely are reported once, as their latest state (receivers must not
	// rely on every change being notified): input_required (its answer recorded) may
	// come first, then working (resumed) may be seen, and completed ends it, in that
	// order.
	order := []string{"input_required", "working", "completed"}
	last := -1
	for _, st := range statuses {
		i := slices.Index(order, st)
		if i <= last {
			t.Fatalf("statuses %v, want a subsequence of %v ending with completed", statuses, order)
		}
		last = i
	}
}

// TestTaskLimits: a stateful session has at most session.task_max_per_session
// unfinished tasks, a replica runs at most session.task_max_running; past either the
// tools/call is refused with -32000 naming the limit, and a task that ends frees its
// place.
func TestTaskLimits(t *testing.T) {
	// Several blocking calls start and end here: drain their signals until the harness
	// (whose cleanup runs first) has stopped them.
	stop := make(chan struct{})
	var drained sync.WaitGroup
	t.Cleanup(func() { close(stop); drained.Wait() })
	h := newHarnessWith(t, nil, taskFixture, func(c *Config) { c.TaskMaxPerSession = 2; c.TaskMaxRunning = 3 })
	drained.Add(1)
	go func() {
		defer drained.Done()
		for {
			select {
			case <-h.provider.blockStarted:
			case <-h.provider.blockEnded:
			case <-stop:
				return
			}
		}
	}()
	sess := h.initialize(t, "2025-11-25")
	first := h.createTask(t, sess, `{"name":"task_block","task":{}}`)
	h.createTask(t, sess, `{"name":"task_block","task":{}}`)
	e := h.mustError(t, stateful(sess, "tools/call", `{"name":"task_block","task":{}}`), -32000)
	if !strings.Contains(e.GetMessage(), "Too many tasks: this session has 2 unfinished tasks") || !strings.Contains(string(e.GetData()), `"limit":2`) {
		t.Fatalf("error %q %s", e.GetMessage(), e.GetData())
	}
	// Another session has its own count; the replica's limit of 3 running tasks applies to all.
	other := h.initialize(t, "2025-11-25")
	h.createTask(t, other, `{"name":"task_block","task":{}}`)
	e = h.mustError(t, statelessTasks("tools/call", `{"name":"task_block","arguments":{}}`), -32000)
	if !strings.Contains(e.GetMessage(), "runs 3 tasks already") {
		t.Fatalf("error %q", e.GetMessage())
	}
	h.mustResult(t, stateful(sess, "tasks/cancel", taskParams(first.TaskID)))
	waitFor(t, "the cancelled task to stop running", func() bool {
		req := stateful(sess, "tools/call", `{"name":"task_block","task":{}}`)
		ev, err := h.handle(t, req)
		return err == nil && ev.rawResult != nil
	})
}

// TestTasks2025Input: a 2025-11-25 task whose provider asks for client input waits in
// input_required (with a status notification on the GET stream); the client's
// tasks/result receives the requests (with related-task), the answers handed to
// Respond resume the run, and the same tasks/result then returns the result.
func TestTasks2025Input(t *testing.T) {
	h := newHarnessWith(t, nil, taskFixture, nil)
	sess := h.initializeWith(t, "2025-11-25", `{"roots":{}}`)
	task := h.createTask(t, sess, `{"name":"task_ask","arguments":{"r":{"method":"roots/list","params":{}}},"task":{}}`)
	waitFor(t, "the task to wait for input", func() bool {
		return decodeTask(t, h.mustResult(t, stateful(sess, "tasks/get", taskParams(task.TaskID))).rawResult).Status == "input_required"
	})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	stream, err := h.client.Handle(ctx, stateful(sess, "tasks/result", taskParams(task.TaskID)))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := stream.Recv()
	if err != nil || ev.GetRequest() == nil {
		t.Fatalf("want the task's input request on the tasks/result stream: %v %v", ev, err)
	}
	r := ev.GetRequest()
	if r.GetMethod() != "roots/list" || !strings.Contains(string(r.GetParams()), `"io.modelcontextprotocol/related-task":{"taskId":"`+task.TaskID+`"}`) {
		t.Fatalf("server request %s %s", r.GetMethod(), r.GetParams())
	}
	resp, err := h.client.Respond(ctx, &sessionv1.RespondRequest{SessionId: sess.GetId(), RequestId: r.GetId(),
		Outcome: &sessionv1.RespondRequest_Result{Result: []byte(`{"roots":[]}`)}})
	if err != nil || !resp.GetDelivered() {
		t.Fatalf("answer = %v, %v", resp, err)
	}
	ev, err = stream.Recv()
	if err != nil || !strings.Contains(string(ev.GetResult()), `r={\"roots\":[]}`) || !strings.Contains(string(ev.GetResult()), "related-task") {
		t.Fatalf("tasks/result = %v, %v", ev, err)
	}
}

// TestTasksExtensionInputBeforeTask: a provider that asks before its task exists
// (input_required before_task) gets a multi round-trip result back to the client, no
// task; the retry with the answers and the requestState creates the task, whose result
// carries the answers.
func TestTasksExtensionInputBeforeTask(t *testing.T) {
	h := newHarnessWith(t, nil, taskFixture, nil)
	const ask = `{"name":"task_ask_first","arguments":{"n":{"method":"roots/list","params":{}}}}`
	first := h.mustResult(t, statelessTasksWith(`"roots":{}`, "tools/call", ask))
	if first.result["resultType"] != "input_required" || first.result["taskId"] != nil || first.result["requestState"] == nil {
		t.Fatalf("round 1 = %s, want an InputRequiredResult without a task", first.rawResult)
	}
	state, _ := json.Marshal(first.result["requestState"])
	retry := `{"name":"task_ask_first","arguments":{"n":{"method":"roots/list","params":{}}},"inputResponses":{"n":{"roots":[]}},"requestState":` + string(state) + `}`
	created := decodeTask(t, h.mustResult(t, statelessTasksWith(`"roots":{}`, "tools/call", retry)).rawResult)
	if created.ResultType != "task" {
		t.Fatalf("round 2 = %+v, want a CreateTaskResult", created)
	}
	if done := h.pollTask(t, created.TaskID); done.Status != "completed" || !strings.Contains(string(done.Result), `n={\"roots\":[]}`) {
		t.Fatalf("task = %+v (%s)", done, done.Result)
	}
}
