package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/tools/mcptest"
)

// TestTasksRawHTTP runs the everything provider's long-task tool as an MCP task over
// raw HTTP against -target=all: the 2025-11-25 experimental tasks (tools/call with
// params.task, tasks/get, tasks/list, tasks/result, tasks/cancel) and the 2026-07-28
// io.modelcontextprotocol/tasks extension (tasks/get with the result inlined,
// tasks/cancel). Every message but the CreateTaskResults goes through the schema
// recorder; those are checked against the CreateTaskResult definition here (the
// recorder validates every tools/call result as a CallToolResult).
func TestTasksRawHTTP(t *testing.T) {
	m := startAll(t)
	rec := recorder(t)
	c := rec.Client()
	schemas := mcptest.NewSchemas(mcptest.SpecDir(t))

	t.Run("2025-11-25", func(t *testing.T) {
		s := initialize(t, c, m.base, "2025-11-25")
		call := func(id int, args string) taskHandle {
			plain := s
			plain.client = http.DefaultClient
			body := `{"jsonrpc":"2.0","id":` + itoa(id) + `,"method":"tools/call","params":{"name":"long-task","arguments":` + args + `,"task":{"ttl":60000}}}`
			var out rpcResponse
			if err := decodeJSON(plain.post(t, body, nil), &out); err != nil || out.Error != nil {
				t.Fatalf("tools/call as a task: %+v %v", out.Error, err)
			}
			validate(t, schemas, "2025-11-25", "CreateTaskResult", out.Result)
			var created struct{ Task taskHandle }
			if err := json.Unmarshal(out.Result, &created); err != nil || created.Task.TaskID == "" || created.Task.Status != "working" {
				t.Fatalf("CreateTaskResult %s", out.Result)
			}
			return created.Task
		}
		rpc := func(id int, method, params string) rpcResponse {
			var out rpcResponse
			body := `{"jsonrpc":"2.0","id":` + itoa(id) + `,"method":"` + method + `","params":` + params + `}`
			if err := decodeJSON(s.post(t, body, nil), &out); err != nil {
				t.Fatal(err)
			}
			return out
		}

		quick := call(9010, `{"duration_ms":100,"steps":2}`)
		got := rpc(9011, "tasks/get", `{"taskId":"`+quick.TaskID+`"}`)
		if got.Error != nil || !strings.Contains(string(got.Result), quick.TaskID) {
			t.Fatalf("tasks/get %s %+v", got.Result, got.Error)
		}
		res := rpc(9012, "tasks/result", `{"taskId":"`+quick.TaskID+`"}`)
		if res.Error != nil || !strings.Contains(string(res.Result), "Completed 2 steps") ||
			!strings.Contains(string(res.Result), `"io.modelcontextprotocol/related-task":{"taskId":"`+quick.TaskID+`"}`) {
			t.Fatalf("tasks/result %s %+v", res.Result, res.Error)
		}
		validate(t, schemas, "2025-11-25", "CallToolResult", res.Result)
		list := rpc(9013, "tasks/list", `{}`)
		if list.Error != nil || !strings.Contains(string(list.Result), quick.TaskID) {
			t.Fatalf("tasks/list %s %+v", list.Result, list.Error)
		}
		validate(t, schemas, "2025-11-25", "ListTasksResult", list.Result)

		long := call(9020, `{"duration_ms":600000,"steps":1000}`)
		cancelled := rpc(9021, "tasks/cancel", `{"taskId":"`+long.TaskID+`"}`)
		if cancelled.Error != nil || !strings.Contains(string(cancelled.Result), `"status":"cancelled"`) {
			t.Fatalf("tasks/cancel %s %+v", cancelled.Result, cancelled.Error)
		}
		validate(t, schemas, "2025-11-25", "CancelTaskResult", cancelled.Result)
		if again := rpc(9022, "tasks/cancel", `{"taskId":"`+long.TaskID+`"}`); again.Error == nil || again.Error.Code != -32602 {
			t.Fatalf("second tasks/cancel %+v", again.Error)
		}
		if unknown := rpc(9023, "tasks/get", `{"taskId":"no-such-task"}`); unknown.Error == nil || unknown.Error.Code != -32602 {
			t.Fatalf("tasks/get of an unknown task %+v", unknown.Error)
		}
	})

	t.Run("2026-07-28 extension", func(t *testing.T) {
		meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"` + stateless + `","io.modelcontextprotocol/clientInfo":{"name":"e2e","version":"1"},` +
			`"io.modelcontextprotocol/clientCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}}}`
		post := func(client *http.Client, method, name, params string) rpcResponse {
			body := `{"jsonrpc":"2.0","id":` + itoa(int(requestIDs.Add(1))) + `,"method":"` + method + `","params":{` + meta + `,` + strings.TrimPrefix(params, "{") + `}`
			headers := map[string]string{"MCP-Protocol-Version": stateless, "Mcp-Method": method}
			if name != "" {
				headers["Mcp-Name"] = name
			}
			var out rpcResponse
			if err := decodeJSON(do(t, client, http.MethodPost, m.base+"/mcp", body, headers), &out); err != nil {
				t.Fatal(err)
			}
			return out
		}
		created := post(http.DefaultClient, "tools/call", "long-task", `{"name":"long-task","arguments":{"duration_ms":100,"steps":2}}`)
		validate(t, schemas, stateless, "Result", created.Result)
		var task taskHandle
		if err := json.Unmarshal(created.Result, &task); err != nil || created.Error != nil || task.ResultType != "task" || task.TaskID == "" {
			t.Fatalf("CreateTaskResult %s %+v", created.Result, created.Error)
		}
		// The client polls tasks/get until the task completes.
		eventually.True(t, 20*time.Second, func() bool {
			got := post(c, "tasks/get", task.TaskID, `{"taskId":"`+task.TaskID+`"}`)
			if got.Error != nil || json.Unmarshal(got.Result, &task) != nil {
				t.Fatalf("tasks/get %s %+v", got.Result, got.Error)
			}
			return task.Status == "completed"
		}, "the task completes")
		if !strings.Contains(string(task.Result), "Completed 2 steps") {
			t.Fatalf("completed task result %s", task.Result)
		}
		long := post(http.DefaultClient, "tools/call", "long-task", `{"name":"long-task","arguments":{"duration_ms":600000,"steps":1000}}`)
		var running taskHandle
		if err := json.Unmarshal(long.Result, &running); err != nil || running.TaskID == "" {
			t.Fatalf("CreateTaskResult %s", long.Result)
		}
		if ack := post(c, "tasks/cancel", running.TaskID, `{"taskId":"`+running.TaskID+`"}`); ack.Error != nil || string(ack.Result) != `{"resultType":"complete"}` {
			t.Fatalf("tasks/cancel %s %+v", ack.Result, ack.Error)
		}
		got := post(c, "tasks/get", running.TaskID, `{"taskId":"`+running.TaskID+`"}`)
		if !strings.Contains(string(got.Result), `"status":"cancelled"`) {
			t.Fatalf("cancelled task %s", got.Result)
		}
	})
}

// taskHandle is the part of a Task the test reads.
type taskHandle struct {
	TaskID     string          `json:"taskId"`
	Status     string          `json:"status"`
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

func itoa(n int) string { return strconv.Itoa(n) }

// validate checks doc against a definition of the version's official schema.
func validate(t *testing.T, schemas *mcptest.Schemas, version, def string, doc []byte) {
	t.Helper()
	sch, err := schemas.Definition(version, def)
	if err != nil || sch == nil {
		t.Fatalf("schema %s %s: %v", version, def, err)
	}
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("%s does not satisfy %s %s: %v", doc, version, def, err)
	}
}
