package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/examples/internal/meshtest"
)

func TestMain(m *testing.M) { meshtest.Main(m) }

// TestNotesThroughTheMesh: through a running mesh, an MCP client adds a note, hears
// that the index changed, reads the note through the template, completes its id,
// renders the prompt, and deletes it after confirming the elicitation.
func TestNotesThroughTheMesh(t *testing.T) {
	mesh := meshtest.Start(t)
	srv, err := newProvider(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mesh.Serve(t, srv)
	mesh.WaitForTool(t, "add_note")

	updated := make(chan string, 16)
	confirmations := 0
	session := mesh.Connect(t, &mcp.ClientOptions{
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
			updated <- req.Params.URI
		},
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			confirmations++
			if !strings.Contains(req.Params.Message, `"Groceries"`) {
				return &mcp.ElicitResult{Action: "decline"}, nil
			}
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}, nil
		},
	})
	ctx := t.Context()
	if err := session.Subscribe(ctx, &mcp.SubscribeParams{URI: indexURI}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}

	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "add_note", Arguments: map[string]any{"title": "Groceries", "body": "- milk\n- bread"}})
	if err != nil || res.IsError {
		t.Fatalf("add_note: %v, %v", res, err)
	}
	if got := fmt.Sprint(res.StructuredContent); got != "map[id:1 uri:notes://1]" {
		t.Errorf("add_note returned %s", got)
	}
	select {
	case uri := <-updated:
		if uri != indexURI {
			t.Errorf("updated %s, want %s", uri, indexURI)
		}
	case <-time.After(10 * time.Second):
		t.Error("no notifications/resources/updated for the index within 10s")
	}

	read, err := session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "notes://1"})
	if err != nil || len(read.Contents) != 1 || read.Contents[0].Text != "# Groceries\n\n- milk\n- bread" || read.Contents[0].MIMEType != "text/markdown" {
		t.Errorf("read notes://1: %+v, %v", read, err)
	}
	if _, err := session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "notes://404"}); err == nil {
		t.Error("read notes://404: want an error")
	}

	completed, err := session.Complete(ctx, &mcp.CompleteParams{
		Ref:      &mcp.CompleteReference{Type: "ref/resource", URI: noteTemplate},
		Argument: mcp.CompleteParamsArgument{Name: "id", Value: ""},
	})
	if err != nil || fmt.Sprint(completed.Completion.Values) != "[1]" {
		t.Errorf("complete id: %+v, %v", completed, err)
	}

	prompt, err := session.GetPrompt(ctx, &mcp.GetPromptParams{Name: "summarize", Arguments: map[string]string{"id": "1"}})
	if err != nil || len(prompt.Messages) != 2 {
		t.Fatalf("summarize: %+v, %v", prompt, err)
	}
	if embedded, ok := prompt.Messages[0].Content.(*mcp.EmbeddedResource); !ok || embedded.Resource.URI != "notes://1" {
		t.Errorf("summarize embeds %#v", prompt.Messages[0].Content)
	}

	res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "delete_note", Arguments: map[string]any{"id": "1"}})
	if err != nil || res.IsError || confirmations != 1 {
		t.Fatalf("delete_note: %+v, %v after %d confirmations", res, err, confirmations)
	}
	if text := res.Content[0].(*mcp.TextContent).Text; text != "Deleted note 1." {
		t.Errorf("delete_note said %q", text)
	}
	// A new session: the first may keep its read of notes://1 for the result's ttlMs.
	if _, err := mesh.Connect(t, nil).ReadResource(ctx, &mcp.ReadResourceParams{URI: "notes://1"}); err == nil {
		t.Error("notes://1 is still readable after its deletion")
	}
}
