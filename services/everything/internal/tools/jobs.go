package tools

import (
	"context"
	"fmt"
	"math"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The tasks fixtures of the conformance suite (SEP-2663, the io.modelcontextprotocol/tasks
// extension): a synchronous tool, long jobs that run as tasks, a job that ends with a tool
// error and one that fails with a protocol error, and jobs that need the user's input
// while they run as a task. The mesh decides from each tool's execution.taskSupport
// whether a call becomes a task.

// executionTaskRequired marks a tool that runs only as a task.
const executionTaskRequired = `{"taskSupport":"required"}`

// Input schemas of the job fixtures.
const (
	schemaGreet       = `{"type":"object","properties":{"name":{"type":"string","description":"Who to greet"}},"required":["name"]}`
	schemaSlowCompute = `{"type":"object","properties":{` +
		`"seconds":{"type":"number","minimum":0,"maximum":600,"description":"How long the computation takes, in seconds (0: at once)"},` +
		`"label":{"type":"string","description":"A name for the computation, repeated in the result"}},"required":["seconds"]}`
	schemaConfirmDelete = `{"type":"object","properties":{"filename":{"type":"string","description":"The file to delete"}},"required":["filename"]}`
)

// failingJobDelay is how long failing_job works before it reports its error.
const failingJobDelay = time.Second

type greetArgs struct {
	Name *string `json:"name"`
}

// runGreet: greet, a synchronous tool: "Hello, <name>!".
func runGreet(_ context.Context, call *Call) (Outcome, error) {
	var args greetArgs
	if err := decodeArgs(call.Arguments, &args, false); err != nil {
		return invalidArgs(call, err)
	}
	if args.Name == nil {
		return invalidArgs(call, missing("name"))
	}
	return textResult("Hello, " + *args.Name + "!")
}

type slowComputeArgs struct {
	Seconds *float64 `json:"seconds"`
	Label   string   `json:"label"`
}

// runSlowCompute: slow_compute works for the given seconds (reporting progress each
// second) and then returns; cancellation (tasks/cancel) stops it at once.
func runSlowCompute(ctx context.Context, call *Call) (Outcome, error) {
	var args slowComputeArgs
	if err := decodeArgs(call.Arguments, &args, false); err != nil {
		return invalidArgs(call, err)
	}
	if args.Seconds == nil {
		return invalidArgs(call, missing("seconds"))
	}
	if *args.Seconds < 0 || *args.Seconds > 600 || math.IsNaN(*args.Seconds) {
		return invalidArgs(call, fmt.Errorf("argument \"seconds\" must be between 0 and 600"))
	}
	total := time.Duration(*args.Seconds * float64(time.Second))
	steps := max(int(math.Ceil(*args.Seconds)), 1)
	for i := 1; i <= steps; i++ {
		if err := sleep(ctx, total/time.Duration(steps)); err != nil {
			return Outcome{}, err
		}
		if err := call.Emit.Progress(ctx, float64(i), float64(steps), fmt.Sprintf("Computed %d of %d", i, steps)); err != nil {
			return Outcome{}, err
		}
	}
	label := args.Label
	if label == "" {
		label = "computation"
	}
	return textResult(fmt.Sprintf("Finished %s after %g seconds.", label, *args.Seconds))
}

// runFailingJob: failing_job works for a second and then reports a tool error (a task
// that ran and failed its work completes with isError; it is not a failed task).
func runFailingJob(ctx context.Context, call *Call) (Outcome, error) {
	if err := decodeArgs(call.Arguments, &struct{}{}, false); err != nil {
		return invalidArgs(call, err)
	}
	if err := sleep(ctx, failingJobDelay); err != nil {
		return Outcome{}, err
	}
	return errorResult("The job failed: failing_job always fails after a second, on purpose.")
}

// runProtocolErrorJob: protocol_error_job ends without a result (the provider call
// itself fails), which the mesh reports as a JSON-RPC error, or as a failed task.
func runProtocolErrorJob(_ context.Context, call *Call) (Outcome, error) {
	if err := decodeArgs(call.Arguments, &struct{}{}, false); err != nil {
		return invalidArgs(call, err)
	}
	return Outcome{}, status.Error(codes.Internal, "deliberate failure: protocol_error_job never produces a result")
}

type confirmDeleteArgs struct {
	Filename *string `json:"filename"`
}

// runConfirmDelete: confirm_delete asks the user to confirm before it "deletes" the
// file (the everything provider has no files: nothing is removed).
func runConfirmDelete(_ context.Context, call *Call) (Outcome, error) {
	var args confirmDeleteArgs
	if err := decodeArgs(call.Arguments, &args, false); err != nil {
		return invalidArgs(call, err)
	}
	if args.Filename == nil {
		return invalidArgs(call, missing("filename"))
	}
	var answer struct {
		Confirm bool `json:"confirm"`
	}
	accepted, ok := elicited(call, keyDeleteConfirm, &answer)
	switch {
	case !ok:
		return askFor(call, nil, askElicit(keyDeleteConfirm, "Delete "+*args.Filename+"?", schemaAskConfirm))
	case !accepted || !answer.Confirm:
		return textResult("Kept " + *args.Filename + ": the user did not confirm.")
	}
	return textResult("Deleted " + *args.Filename + " (a simulated file: the everything provider stores none).")
}

// runMultiInput: multi_input asks for a name and a confirmation at once; it finishes
// when both answers are in (a task stays input_required until then).
func runMultiInput(_ context.Context, call *Call) (Outcome, error) {
	if err := decodeArgs(call.Arguments, &struct{}{}, false); err != nil {
		return invalidArgs(call, err)
	}
	var name nameAnswer
	var confirm struct {
		Confirm bool `json:"confirm"`
	}
	_, nameOK := elicited(call, keyContactName, &name)
	confirmed, confirmOK := elicited(call, keyConfirm, &confirm)
	var missing []ask
	if !nameOK {
		missing = append(missing, askElicit(keyContactName, "What is your name?", schemaAskName))
	}
	if !confirmOK {
		missing = append(missing, askElicit(keyConfirm, "Go ahead?", schemaAskConfirm))
	}
	if len(missing) > 0 {
		return askFor(call, nil, missing...)
	}
	return textResult(fmt.Sprintf("Got both answers: name=%q, confirmed=%t.", name.Name, confirmed && confirm.Confirm))
}

// runGreetAfterAsking: test_tool_with_task asks for the user's name before any task
// exists (input_required with before_task: a multi round-trip result), and the retry
// with the name runs as a task that greets them.
func runGreetAfterAsking(ctx context.Context, call *Call) (Outcome, error) {
	var answer nameAnswer
	accepted, ok := elicited(call, keyUserName, &answer)
	if !ok {
		out, err := askFor(call, nil, askElicit(keyUserName, "What is your name?", schemaAskName))
		if out.InputRequired != nil {
			out.InputRequired.BeforeTask = true
		}
		return out, err
	}
	if !accepted {
		answer.Name = "stranger"
	}
	if err := call.Emit.Progress(ctx, 1, 1, "Greeting "+answer.Name); err != nil {
		return Outcome{}, err
	}
	return textResult("Hello, " + answer.Name + "! (greeted by a task)")
}
