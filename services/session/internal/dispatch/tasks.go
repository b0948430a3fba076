package dispatch

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
	"github.com/mcpmesh/mcpmesh/services/kit/virtualserver"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
	"github.com/mcpmesh/mcpmesh/services/session/internal/tasks"
)

// MCP tasks: a tools/call for a tool the provider marked as long-running
// (execution.taskSupport "optional" or "required") may run in the background. The
// client gets a task handle at once; the provider call runs on this replica, detached
// from the request, bounded by the task timeout; its outcome goes to the task store,
// where any replica finds it.
//
//   - 2025-11-25 (experimental tasks, stateful): the client asks with params.task;
//     tasks/get, tasks/result (waits for the end), tasks/list (the session's tasks),
//     tasks/cancel; notifications/tasks/status and progress go to the session's
//     GET stream. Tasks belong to their session.
//   - 2026-07-28 (extension io.modelcontextprotocol/tasks, stateless): the client
//     declares the extension in its per-request capabilities and the server decides;
//     tasks/get (the result or error inlined), tasks/update, tasks/cancel. The task id
//     (256 random bits) is the only key.
//
// Cancellation reaches the running replica directly, or through the store's
// notification (tasks.NotifyChannel) and the periodic resync.

// CodeTooManyTasks is the JSON-RPC error of a task refused for a task limit: a server
// error of the implementation-defined range (JSON-RPC 2.0 §5.1), with data naming the
// limit.
const CodeTooManyTasks int32 = mcpproto.CodeServerError

// extensionTasks is the 2026-07-28 tasks extension's identifier.
const extensionTasks = mcpproto.ExtensionTasks

// metaRelatedTask ties a message to its task.
const metaRelatedTask = mcpproto.MetaRelatedTask

// taskSupport reads a tool's execution.taskSupport from its 2025-11-25 rendering
// ("forbidden" when absent). Most tools have none, which a byte scan tells.
func taskSupport(e *catalogue.Entry) string {
	raw := e.Render(catalogue.Class20251125)
	if !bytes.Contains(raw, []byte(`"taskSupport"`)) {
		return "forbidden"
	}
	var t struct {
		Execution struct {
			TaskSupport string `json:"taskSupport"`
		} `json:"execution"`
	}
	if json.Unmarshal(raw, &t) != nil || t.Execution.TaskSupport == "" {
		return "forbidden"
	}
	return t.Execution.TaskSupport
}

// taskParams is params.task of a 2025-11-25 tools/call.
type taskParams struct {
	TTL json.RawMessage `json:"ttl"`
}

// asTask decides whether a tools/call runs as a task, and the ttl the client asked
// for (0: none). rawTask is params.task.
func (d *Dispatcher) asTask(req *Request, cc *callContext, e *catalogue.Entry, name string, rawTask json.RawMessage) (bool, int64, error) {
	support := taskSupport(e)
	if req.stateless() {
		declared := d.tasks != nil && declaresTasksExtension(cc.rc.GetClient().GetCapabilities())
		switch {
		case declared && (support == "optional" || support == "required"):
			return true, 0, nil
		case support == "required" && d.tasks != nil:
			return false, 0, (&mcpjson.Error{Code: mcpjson.CodeMissingClientCapability,
				Message: "Tool " + name + " runs only as a task: declare the " + extensionTasks + " extension in the client capabilities"}).
				WithData(map[string]any{"requiredCapabilities": map[string]any{"extensions": map[string]any{extensionTasks: map[string]any{}}}})
		}
		return false, 0, nil
	}
	if req.Session == nil || req.ProtocolVersion != mcpversion.V20251125 || d.tasks == nil {
		return false, 0, nil // tasks exist only in 2025-11-25; params.task means nothing before
	}
	asked := false
	var ttl int64
	switch mcpjson.Kind(rawTask) {
	case 0, 'n':
	case '{':
		var p taskParams
		if err := decodeParams(req.Method, rawTask, &p); err != nil {
			return false, 0, invalidParams("tools/call: params.task must be an object with an optional integer ttl")
		}
		if mcpjson.Kind(p.TTL) != 0 && mcpjson.Kind(p.TTL) != 'n' {
			if json.Unmarshal(p.TTL, &ttl) != nil || ttl < 0 {
				return false, 0, invalidParams("tools/call: params.task.ttl must be a non-negative integer (milliseconds)")
			}
		}
		asked = true
	default:
		return false, 0, invalidParams("tools/call: params.task must be an object")
	}
	switch {
	case asked && support != "optional" && support != "required":
		// Tool-level negotiation: a task for a tool that does not support them is -32601.
		return false, 0, mcpjson.Errorf(mcpjson.CodeMethodNotFound, "Tool %s does not support task-augmented execution", name)
	case !asked && support == "required":
		// Tool-level negotiation says -32601 (MUST); the error-handling section's
		// example uses -32600 (MAY): the MUST wins.
		return false, 0, mcpjson.Errorf(mcpjson.CodeMethodNotFound, "Task augmentation required for tools/call requests to tool %s", name)
	}
	return asked, ttl, nil
}

// declaresTasksExtension reports whether client capabilities list the tasks extension.
func declaresTasksExtension(caps []byte) bool {
	if !bytes.Contains(caps, []byte(extensionTasks)) {
		return false
	}
	var c struct {
		Extensions map[string]json.RawMessage `json:"extensions"`
	}
	return json.Unmarshal(caps, &c) == nil && mcpjson.IsObject(c.Extensions[extensionTasks])
}

// newTaskID returns 256 random bits, base64url: unguessable, as stateless tasks need.
func newTaskID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// toolTask is what a task's background run needs.
type toolTask struct {
	req     Request
	entry   catalogue.Route
	target  target
	name    string
	args    []byte
	cc      *callContext
	schemas *toolSchemas
	// start is the hand-over of a stateless call (nil for a stateful one): see taskStart.
	start *taskStart
}

// startToolTask creates the task record, starts the provider call in the background
// and returns the CreateTaskResult.
func (d *Dispatcher) startToolTask(ctx context.Context, req *Request, ttlMs int64, job toolTask) ([]byte, error) {
	r := d.tasks
	s := r.Settings()
	ttl := s.DefaultTTL.Milliseconds()
	if ttlMs > 0 {
		ttl = min(ttlMs, s.MaxTTL.Milliseconds())
	}
	now := time.Now().UnixMilli()
	task := tasks.Task{
		ID: newTaskID(), SessionID: req.sessionID(), Owner: OwnerOf(ctx), Status: tasks.Working,
		StatusMessage: "The operation is now in progress.",
		CreatedUnixMs: now, UpdatedUnixMs: now, TTLMs: ttl, PollIntervalMs: s.PollInterval.Milliseconds(),
	}
	if err := d.checkTaskLimits(ctx, req); err != nil {
		return nil, err
	}
	// The record exists before the handle is returned: a tasks/get on any replica
	// finds it.
	runCtx, end, err := r.Begin(ctx, task, errToolCallTimeout)
	switch {
	case errors.Is(err, tasks.ErrStopping):
		return nil, mcpjson.Errorf(mcpjson.CodeInternal, "the session service is shutting down; try again")
	case errors.Is(err, tasks.ErrBusy):
		return nil, tooManyTasks("this server runs %d tasks already, its limit; try again when one has ended", s.MaxRunning)
	case err != nil:
		d.logger.WarnContext(ctx, "create task record", "tool", job.name, "error", err)
		return nil, mcpjson.Errorf(mcpjson.CodeInternal, "could not create a task for tool %s; try again", job.name)
	}
	job.req.Params = nil // not needed by the run; do not keep it alive
	if who, ok := principal.FromContext(ctx); ok {
		// The run outlives the request; its provider calls still act for the caller.
		runCtx = principal.NewContext(runCtx, who)
	}
	runCtx = virtualserver.NewContext(runCtx, virtualserver.FromContext(ctx))
	if req.stateless() {
		job.start = newTaskStart()
	}
	go d.runToolTask(runCtx, end, task, job)
	if req.stateless() {
		if ir := job.start.await(ctx); ir != nil {
			// The provider asks before the task exists: a multi round-trip result; the
			// retry with the answers becomes the task.
			return d.inputRequired(ctx, req, job.cc, job.target, job.name, ir)
		}
		d.logger.InfoContext(ctx, "task created", "task_id", task.ID, "tool", job.name, "session_id", task.SessionID)
		return renderTask(mcpjson.NewObject(make([]byte, 0, 256)).String("resultType", "task"), &task, true).Bytes(), nil
	}
	d.logger.InfoContext(ctx, "task created", "task_id", task.ID, "tool", job.name, "session_id", task.SessionID)
	inner := renderTask(mcpjson.NewObject(make([]byte, 0, 256)), &task, false).Bytes()
	return mcpjson.NewObject(make([]byte, 0, len(inner)+16)).Raw("task", inner).Bytes(), nil
}

// checkTaskLimits refuses a task for a principal that has MaxPerPrincipal unfinished
// tasks already, or for a stateful session that has MaxPerSession (both counted in the
// store, so across replicas).
func (d *Dispatcher) checkTaskLimits(ctx context.Context, req *Request) error {
	if err := d.checkPrincipalTaskLimit(ctx); err != nil {
		return err
	}
	limit := d.tasks.Settings().MaxPerSession
	if req.Session == nil || limit <= 0 {
		return nil
	}
	n, err := d.tasks.Store().CountActive(ctx, req.Session.ID)
	if err != nil {
		d.logger.WarnContext(ctx, "count the session's tasks", "error", err)
		return mcpjson.Errorf(mcpjson.CodeInternal, "the task store is unavailable; try again")
	}
	if n >= limit {
		return tooManyTasks("this session has %d unfinished tasks, its limit; wait for one to end or cancel one (tasks/cancel)", limit)
	}
	return nil
}

// checkPrincipalTaskLimit counts the caller's unfinished tasks in every session and
// stateless. The anonymous principal (auth.mode none) is every caller at once, so it
// has no such limit; the per-session and per-replica ones still hold.
func (d *Dispatcher) checkPrincipalTaskLimit(ctx context.Context) error {
	limit := d.tasks.Settings().MaxPerPrincipal
	p, ok := principal.FromContext(ctx)
	if limit <= 0 || !ok || p.Method == principal.MethodAnonymous {
		return nil
	}
	n, err := d.tasks.Store().CountActiveOwned(ctx, OwnerOf(ctx))
	if err != nil {
		d.logger.WarnContext(ctx, "count the principal's tasks", "error", err)
		return mcpjson.Errorf(mcpjson.CodeInternal, "the task store is unavailable; try again")
	}
	if n >= limit {
		return tooManyTasks("you have %d unfinished tasks, your limit; wait for one to end or cancel one (tasks/cancel)", limit)
	}
	return nil
}

func tooManyTasks(format string, limit int) *mcpjson.Error {
	return (&mcpjson.Error{Code: CodeTooManyTasks, Message: fmt.Sprintf("Too many tasks: "+format, limit)}).
		WithData(map[string]any{"limit": limit})
}

// runToolTask makes the provider call of a task and records its outcome.
func (d *Dispatcher) runToolTask(ctx context.Context, end func(), task tasks.Task, job toolTask) {
	r := d.tasks
	defer end()
	req := &job.req
	outcome, handedBack := d.taskOutcome(ctx, req, task, job)
	// The record is written even when the run was cancelled or the service stops.
	writeCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer done()
	if handedBack {
		// The client never saw this task: close its record.
		if _, err := r.Store().Cancel(writeCtx, task.ID, "The provider asked for input before the task began; the call was answered with it."); err != nil {
			d.logger.WarnContext(writeCtx, "close a task handed back", "task_id", task.ID, "error", err)
		}
		return
	}
	final, recorded, err := r.Store().Finish(writeCtx, task.ID, outcome)
	if err != nil {
		d.logger.WarnContext(writeCtx, "record task outcome", "task_id", task.ID, "error", err)
		return
	}
	r.Wake(task.ID)
	if recorded {
		d.logger.InfoContext(writeCtx, "task ended", "task_id", task.ID, "tool", job.name, "status", string(final.Status))
		d.notifyTaskStatus(writeCtx, req, &final)
	}
}

// taskOutcome runs the provider call and turns its end into the task's outcome;
// handedBack when the provider's first answer went back to the creating request
// (taskStart) and the task has no outcome.
func (d *Dispatcher) taskOutcome(ctx context.Context, req *Request, task tasks.Task, job toolTask) (_ tasks.Outcome, handedBack bool) {
	failed := func(err error) (tasks.Outcome, bool) {
		var rpcErr *mcpjson.Error
		if !errors.As(err, &rpcErr) {
			if errors.Is(err, errCancelled) {
				rpcErr = mcpjson.Errorf(mcpjson.CodeInternal, "%s %s was stopped before it finished", job.target.kind, job.name)
			} else {
				rpcErr = mcpjson.Errorf(mcpjson.CodeInternal, "%s %s failed", job.target.kind, job.name)
			}
		}
		return tasks.Outcome{Status: tasks.Failed, StatusMessage: rpcErr.Message,
			Error: &tasks.Error{Code: rpcErr.Code, Message: rpcErr.Message, Data: rpcErr.Data}}, false
	}
	client, err := d.provider(job.entry)
	if err != nil {
		job.start.begun()
		return failed(d.unreachable(ctx, job.target, job.entry, err))
	}
	emit := func(ev *sessionv1.HandleResponse) error {
		job.start.begun()
		d.taskEvent(ctx, req, task.ID, ev)
		return nil
	}
	var res *mcpv1.ToolResult
	for round := 0; ; round++ {
		var ir *mcpv1.InputRequired
		res, ir, err = d.runTool(ctx, ctx, client, job.entry, job.target, job.name, job.args, job.cc, job.schemas, emit)
		if round == 0 && ir != nil && ir.GetBeforeTask() && job.start.handBack(ir) {
			return tasks.Outcome{}, true
		}
		job.start.begun()
		if err != nil {
			return failed(err)
		}
		if ir == nil {
			break
		}
		if round == maxInputRounds {
			d.logger.WarnContext(ctx, "provider kept asking for client input", "task_id", task.ID, "tool", job.name, "rounds", round)
			return failed(mcpjson.Errorf(mcpjson.CodeInternal, "%s %s asked for client input %d times; giving up", job.target.kind, job.name, round))
		}
		if err := d.awaitTaskInput(ctx, req, task.ID, job, ir); err != nil {
			return failed(err)
		}
	}
	body, err := d.toolResult(req, job.target, res)
	if err != nil {
		return failed(err)
	}
	if res.GetIsError() && !req.stateless() {
		// 2025-11-25: a tool error fails the task; tasks/result still returns the result.
		return tasks.Outcome{Status: tasks.Failed, StatusMessage: "Tool " + job.name + " returned an error", Result: body}, false
	}
	return tasks.Outcome{Status: tasks.Completed, StatusMessage: "The operation completed.", Result: body}, false
}

// awaitTaskInput parks a task that needs client input: the task goes to
// input_required with the provider's requests (checked against the client's declared
// capabilities), the client answers them on any replica (tasks/update in 2026-07-28;
// in 2025-11-25 its tasks/result receives them as requests: askForTask), and once
// every request is answered the task is working again and job.cc carries the answers
// and the provider's state for the next call. It ends early when the task is cancelled
// or its time is up.
func (d *Dispatcher) awaitTaskInput(ctx context.Context, req *Request, id string, job toolTask, ir *mcpv1.InputRequired) error {
	keys, size, err := d.checkInputRequests(ctx, job.cc, job.target, ir)
	if err != nil {
		return err
	}
	requests := mcpjson.NewObject(make([]byte, 0, size))
	for _, k := range keys {
		requests.Raw(jsonKey(k), ir.GetInputRequests()[k])
	}
	r := d.tasks
	message := "The task needs input from the client: answer inputRequests with tasks/update."
	if !req.stateless() {
		message = "The task needs input from the client: call tasks/result to receive its requests."
	}
	t, err := r.Store().AwaitInput(ctx, id, requests.Bytes(), message)
	if err != nil {
		return err // terminal (cancelled meanwhile) or the store failed: the outcome is not recorded over it
	}
	d.tasks.Wake(id)
	d.notifyTaskStatus(ctx, req, &t)
	for !answered(&t) {
		changed, release := r.Watch(id)
		// Look again after registering, so that an answer in between is not missed.
		if t, err = r.Store().Get(ctx, id); err == nil && t.Status == tasks.InputRequired && !answered(&t) {
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-changed:
			}
		}
		release()
		if err != nil {
			return err
		}
		if t, err = r.Store().Get(ctx, id); err != nil {
			return err
		}
		if t.Status != tasks.InputRequired {
			return errCancelled // cancelled (or otherwise ended) while waiting
		}
	}
	var answers map[string]json.RawMessage
	if err := json.Unmarshal(t.InputResponses, &answers); err != nil {
		return mcpjson.Errorf(mcpjson.CodeInternal, "%s %s: the recorded answers are unreadable", job.target.kind, job.name)
	}
	if t, err = r.Store().Resume(ctx, id, "The operation is in progress again."); err != nil {
		return err
	}
	d.tasks.Wake(id)
	d.notifyTaskStatus(ctx, req, &t)
	job.cc.rc.InputResponses = make(map[string][]byte, len(answers))
	for k, v := range answers {
		job.cc.rc.InputResponses[k] = v
	}
	job.cc.rc.RequestState = ir.GetRequestState()
	return nil
}

// askForTask sends the pending input requests of a 2025-11-25 task to its client on
// the stream of the client's tasks/result (with _meta related-task, as that version's
// tasks ask), waits for every answer and records them in the task. The task's run, on
// whichever replica, resumes from there.
func (d *Dispatcher) askForTask(ctx context.Context, req *Request, t *tasks.Task, emit Emit) error {
	var pendingRequests map[string]json.RawMessage
	if err := json.Unmarshal(t.InputRequests, &pendingRequests); err != nil {
		return mcpjson.Errorf(mcpjson.CodeInternal, "task %s: its input requests are unreadable", t.ID)
	}
	ir := &mcpv1.InputRequired{InputRequests: make(map[string][]byte, len(pendingRequests))}
	for k, raw := range pendingRequests {
		var r inputRequest
		if json.Unmarshal(raw, &r) != nil {
			return mcpjson.Errorf(mcpjson.CodeInternal, "task %s: its input requests are unreadable", t.ID)
		}
		tagged, err := json.Marshal(inputRequest{Method: r.Method, Params: withRelatedTask(r.Params, t.ID)})
		if err != nil {
			return err
		}
		ir.InputRequests[k] = tagged
	}
	cc, err := d.newCallContext(req, nil)
	if err != nil {
		return err
	}
	if err := d.askClient(ctx, req, cc, target{kind: "task", name: t.ID}, ir, emit); err != nil {
		return err
	}
	if _, err := d.tasks.Store().AddInput(ctx, t.ID, cc.rc.InputResponses); err != nil {
		d.logger.WarnContext(ctx, "record task input", "task_id", t.ID, "error", err)
		return mcpjson.Errorf(mcpjson.CodeInternal, "the task store is unavailable; try again")
	}
	d.tasks.Wake(t.ID)
	return nil
}

// answered reports whether every input request of a task has its answer.
func answered(t *tasks.Task) bool {
	return len(t.InputRequests) == 0 || bytes.Equal(t.InputRequests, []byte("{}"))
}

// taskEvent forwards a task's progress (and log) notifications to a stateful
// session's GET stream; stateless tasks have no stream to send them on.
func (d *Dispatcher) taskEvent(ctx context.Context, req *Request, taskID string, ev *sessionv1.HandleResponse) {
	n := ev.GetNotification()
	if n == nil || req.Session == nil {
		return
	}
	d.tasks.Notify(ctx, req.Session.ID, n.GetMethod(), withRelatedTask(n.GetParams(), taskID))
}

// notifyTaskStatus sends notifications/tasks/status to a stateful session.
func (d *Dispatcher) notifyTaskStatus(ctx context.Context, req *Request, t *tasks.Task) {
	if req.Session == nil {
		return
	}
	d.tasks.Notify(ctx, req.Session.ID, "notifications/tasks/status", renderTask(mcpjson.NewObject(make([]byte, 0, 256)), t, false).Bytes())
}

// withRelatedTask adds _meta[related-task] to a JSON object (a copy).
func withRelatedTask(obj []byte, taskID string) []byte {
	related := mcpjson.NewObject(make([]byte, 0, 64)).String("taskId", taskID).Bytes()
	var members map[string]json.RawMessage
	if !mcpjson.IsObject(obj) || json.Unmarshal(obj, &members) != nil {
		members = map[string]json.RawMessage{}
	}
	var meta map[string]json.RawMessage
	if raw, ok := members["_meta"]; !ok || !mcpjson.IsObject(raw) || json.Unmarshal(raw, &meta) != nil {
		meta = map[string]json.RawMessage{}
	}
	meta[metaRelatedTask] = related
	members["_meta"], _ = json.Marshal(meta)
	out, _ := json.Marshal(members)
	return out
}

// isoTime renders unix milliseconds as an ISO 8601 UTC timestamp.
func isoTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// renderTask appends the Task members: ttl and pollInterval in 2025-11-25,
// ttlMs and pollIntervalMs in the 2026-07-28 extension.
func renderTask(o *mcpjson.Object, t *tasks.Task, extension bool) *mcpjson.Object {
	o.String("taskId", t.ID).String("status", string(t.Status)).StringIf("statusMessage", t.StatusMessage).
		String("createdAt", isoTime(t.CreatedUnixMs)).String("lastUpdatedAt", isoTime(t.UpdatedUnixMs))
	if extension {
		return o.Int("ttlMs", t.TTLMs).Int("pollIntervalMs", t.PollIntervalMs)
	}
	return o.Int("ttl", t.TTLMs).Int("pollInterval", t.PollIntervalMs)
}

// taskMethod serves tasks/get, tasks/result, tasks/list, tasks/cancel and tasks/update
// in the generation that has them.
func (d *Dispatcher) taskMethod(ctx context.Context, req *Request, emit Emit) ([]byte, error) {
	if d.tasks == nil {
		return nil, methodNotFound(req.Method)
	}
	if req.stateless() {
		switch req.Method {
		case "tasks/get", "tasks/update", "tasks/cancel":
		default:
			return nil, methodNotFound(req.Method)
		}
		var p struct {
			Meta json.RawMessage `json:"_meta"`
		}
		if err := decodeParams(req.Method, req.Params, &p); err != nil {
			return nil, err
		}
		cc, err := d.newCallContext(req, p.Meta)
		if err != nil {
			return nil, err
		}
		if !declaresTasksExtension(cc.rc.GetClient().GetCapabilities()) {
			return nil, (&mcpjson.Error{Code: mcpjson.CodeMissingClientCapability,
				Message: "Server requires the " + extensionTasks + " extension in the client capabilities for " + req.Method}).
				WithData(map[string]any{"requiredCapabilities": map[string]any{"extensions": map[string]any{extensionTasks: map[string]any{}}}})
		}
	} else if req.Session == nil || req.ProtocolVersion != mcpversion.V20251125 || req.Method == "tasks/update" {
		return nil, methodNotFound(req.Method)
	}
	switch req.Method {
	case "tasks/list":
		return d.listTasks(ctx, req)
	case "tasks/get":
		t, err := d.findTask(ctx, req)
		if err != nil {
			return nil, err
		}
		return d.renderGet(req, &t), nil
	case "tasks/result":
		return d.taskResult(ctx, req, emit)
	case "tasks/cancel":
		return d.cancelTask(ctx, req)
	default: // tasks/update
		return d.updateTask(ctx, req)
	}
}

type taskIDParams struct {
	TaskID         json.RawMessage `json:"taskId"`
	InputResponses json.RawMessage `json:"inputResponses"`
}

// findTask loads the task named by params.taskId, if the requester may see it: a
// session's tasks only through that session, stateless tasks only statelessly, and
// every task only by the principal that created it.
func (d *Dispatcher) findTask(ctx context.Context, req *Request) (tasks.Task, error) {
	var p taskIDParams
	if err := decodeParams(req.Method, req.Params, &p); err != nil {
		return tasks.Task{}, err
	}
	var id string
	if mcpjson.Kind(p.TaskID) != '"' || json.Unmarshal(p.TaskID, &id) != nil || id == "" {
		return tasks.Task{}, invalidParams("%s: params.taskId is required and must be a string", req.Method)
	}
	t, err := d.tasks.Store().Get(ctx, id)
	// Another principal's task is answered exactly as a missing one.
	if errors.Is(err, tasks.ErrNotFound) || (err == nil && (t.SessionID != req.sessionID() ||
		subtle.ConstantTimeCompare([]byte(t.Owner), []byte(OwnerOf(ctx))) != 1)) {
		return tasks.Task{}, invalidParams("Failed to retrieve task: Task not found")
	}
	if err != nil {
		d.logger.WarnContext(ctx, "load task", "method", req.Method, "error", err)
		return tasks.Task{}, mcpjson.Errorf(mcpjson.CodeInternal, "the task store is unavailable; try again")
	}
	return t, nil
}

// renderGet is the tasks/get result: the Task (2025-11-25), or the DetailedTask with
// the result or error inlined (2026-07-28).
func (d *Dispatcher) renderGet(req *Request, t *tasks.Task) []byte {
	if !req.stateless() {
		return renderTask(mcpjson.NewObject(make([]byte, 0, 256)), t, false).Bytes()
	}
	o := renderTask(mcpjson.NewObject(make([]byte, 0, 256+len(t.Result))).String("resultType", "complete"), t, true)
	return renderDetail(o, t).Bytes()
}

// renderDetail appends what a DetailedTask adds to a Task in its status: the result,
// the error, or the input requests still unanswered.
func renderDetail(o *mcpjson.Object, t *tasks.Task) *mcpjson.Object {
	switch {
	case t.Status == tasks.Completed && mcpjson.IsObject(t.Result):
		o.Raw("result", t.Result)
	case t.Status == tasks.Failed && t.Error != nil:
		o.Raw("error", renderError(t.Error))
	case t.Status == tasks.InputRequired && mcpjson.IsObject(t.InputRequests):
		o.Raw("inputRequests", t.InputRequests)
	}
	return o
}

func renderError(e *tasks.Error) []byte {
	o := mcpjson.NewObject(make([]byte, 0, 64+len(e.Message)+len(e.Data))).Int("code", int64(e.Code)).String("message", e.Message)
	if len(e.Data) > 0 && json.Valid(e.Data) {
		o.Raw("data", e.Data)
	}
	return o.Bytes()
}

// taskResult waits until the task is terminal and returns what the tools/call would
// have returned, with _meta[related-task].
func (d *Dispatcher) taskResult(ctx context.Context, req *Request, emit Emit) ([]byte, error) {
	t, err := d.findTask(ctx, req)
	if err != nil {
		return nil, err
	}
	for !t.Status.Terminal() {
		if t.Status == tasks.InputRequired && !answered(&t) {
			// The task waits for its client: ask on this request's stream, record the
			// answers (the run, on whichever replica, resumes) and wait on.
			if err := d.askForTask(ctx, req, &t, emit); err != nil {
				return nil, err
			}
			if t, err = d.findTask(ctx, req); err != nil {
				return nil, err
			}
			continue
		}
		changed, release := d.tasks.Watch(t.ID)
		// Look again after registering, so a change in between is not missed.
		t, err = d.findTask(ctx, req)
		if err != nil {
			release()
			return nil, err
		}
		if t.Status.Terminal() || (t.Status == tasks.InputRequired && !answered(&t)) {
			release()
			continue
		}
		select {
		case <-ctx.Done():
			release()
			return nil, errCancelled
		case <-changed:
		}
		release()
		if t, err = d.findTask(ctx, req); err != nil {
			return nil, err
		}
	}
	switch {
	case t.Error != nil:
		return nil, &mcpjson.Error{Code: t.Error.Code, Message: t.Error.Message, Data: t.Error.Data}
	case t.Status == tasks.Cancelled || !mcpjson.IsObject(t.Result):
		return nil, invalidParams("Task %s was cancelled: it has no result", t.ID)
	}
	return withRelatedTask(t.Result, t.ID), nil
}

// listTasks pages the session's tasks, oldest first.
func (d *Dispatcher) listTasks(ctx context.Context, req *Request) ([]byte, error) {
	var p listParams
	if err := decodeParams(req.Method, req.Params, &p); err != nil {
		return nil, err
	}
	cursor := ""
	if k := mcpjson.Kind(p.Cursor); k != 0 && k != 'n' {
		if k != '"' || json.Unmarshal(p.Cursor, &cursor) != nil {
			return nil, invalidParams("tasks/list: params.cursor must be a string")
		}
	}
	after, ok := decodeTaskCursor(cursor)
	if !ok {
		return nil, invalidParams("tasks/list: invalid cursor; use a nextCursor from an earlier response or none")
	}
	page, more, err := d.tasks.Store().List(ctx, req.sessionID(), after, d.settings.PageSize)
	if err != nil {
		d.logger.WarnContext(ctx, "list tasks", "error", err)
		return nil, mcpjson.Errorf(mcpjson.CodeInternal, "the task store is unavailable; try again")
	}
	items := make([][]byte, len(page))
	size := 64
	for i := range page {
		items[i] = renderTask(mcpjson.NewObject(make([]byte, 0, 256)), &page[i], false).Bytes()
		size += len(items[i]) + 1
	}
	o := mcpjson.NewObject(make([]byte, 0, size)).Array("tasks", len(items), func(i int) []byte { return items[i] })
	if more {
		last := page[len(page)-1]
		o.String("nextCursor", mcpjson.EncodeCursor(strconv.FormatInt(last.CreatedUnixMs, 10)+":"+last.ID))
	}
	return o.Bytes(), nil
}

func decodeTaskCursor(c string) (tasks.Position, bool) {
	key, err := mcpjson.DecodeCursor(c)
	if err != nil {
		return tasks.Position{}, false
	}
	if key == "" {
		return tasks.Position{}, true
	}
	ms, id, found := strings.Cut(key, ":")
	created, err := strconv.ParseInt(ms, 10, 64)
	if !found || err != nil || id == "" {
		return tasks.Position{}, false
	}
	return tasks.Position{CreatedUnixMs: created, ID: id}, true
}

// cancelTask marks the task cancelled and stops it if it runs here (other replicas
// hear of it through the store). 2025-11-25 returns the task and refuses terminal
// ones; the extension acknowledges with an empty result.
func (d *Dispatcher) cancelTask(ctx context.Context, req *Request) ([]byte, error) {
	t, err := d.findTask(ctx, req)
	if err != nil {
		return nil, err
	}
	r := d.tasks
	t, err = r.Store().Cancel(ctx, t.ID, "The task was cancelled by request.")
	switch {
	case errors.Is(err, tasks.ErrTerminal):
		if req.stateless() {
			return d.result(req, 32).Bytes(), nil // cooperative: acknowledged, nothing to stop
		}
		return nil, invalidParams("Cannot cancel task: already in terminal status '%s'", t.Status)
	case errors.Is(err, tasks.ErrNotFound):
		return nil, invalidParams("Failed to retrieve task: Task not found")
	case err != nil:
		d.logger.WarnContext(ctx, "cancel task", "error", err)
		return nil, mcpjson.Errorf(mcpjson.CodeInternal, "the task store is unavailable; try again")
	}
	r.CancelLocal(t.ID)
	r.Wake(t.ID)
	d.logger.InfoContext(ctx, "task cancelled", "task_id", t.ID)
	d.notifyTaskStatus(ctx, req, &t)
	if req.stateless() {
		return d.result(req, 32).Bytes(), nil
	}
	return renderTask(mcpjson.NewObject(make([]byte, 0, 256)), &t, false).Bytes(), nil
}

// updateTask takes the client's answers to an input_required task (on any replica: the
// store carries them to the replica running the task) and acknowledges. Answers to keys
// the task does not wait for, or to a task that waits for nothing, are ignored, as the
// extension says.
func (d *Dispatcher) updateTask(ctx context.Context, req *Request) ([]byte, error) {
	var p taskIDParams
	if err := decodeParams(req.Method, req.Params, &p); err != nil {
		return nil, err
	}
	var answers map[string]json.RawMessage
	if !mcpjson.IsObject(p.InputResponses) || json.Unmarshal(p.InputResponses, &answers) != nil {
		return nil, invalidParams("tasks/update: params.inputResponses is required and must be an object")
	}
	t, err := d.findTask(ctx, req)
	if err != nil {
		return nil, err
	}
	if t.Status != tasks.InputRequired {
		return d.result(req, 32).Bytes(), nil
	}
	given := make(map[string][]byte, len(answers))
	for k, v := range answers {
		if !mcpjson.IsObject(v) {
			return nil, invalidParams("tasks/update: params.inputResponses[%q] must be a result object", k)
		}
		given[k] = v
	}
	if _, err := d.tasks.Store().AddInput(ctx, t.ID, given); err != nil {
		d.logger.WarnContext(ctx, "record task input", "task_id", t.ID, "error", err)
		return nil, mcpjson.Errorf(mcpjson.CodeInternal, "the task store is unavailable; try again")
	}
	d.tasks.Wake(t.ID)
	return d.result(req, 32).Bytes(), nil
}
