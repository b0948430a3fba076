package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/mcpmesh/mcpmesh/sdk/provider"
	"github.com/mcpmesh/mcpmesh/sdk/provider/content"
)

// URIs of the notebook.
const (
	indexURI     = "notes://index"
	noteTemplate = "notes://{id}"
)

// note is one note of the notebook.
type note struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body,omitempty"`
}

// notebook is the provider's state: notes in memory, by id.
type notebook struct {
	srv *provider.Server // told about each change

	mu    sync.Mutex
	next  int
	notes map[string]note
}

func noteURI(id string) string { return "notes://" + id }

// index lists every note without its body, in id order.
func (nb *notebook) index(_ context.Context, uri string) ([]content.ResourceContents, error) {
	nb.mu.Lock()
	list := make([]note, 0, len(nb.notes))
	for _, n := range nb.notes {
		list = append(list, note{ID: n.ID, Title: n.Title})
	}
	nb.mu.Unlock()
	slices.SortFunc(list, func(a, b note) int { return compareIDs(a.ID, b.ID) })
	return provider.JSONContents(uri, list)
}

func compareIDs(a, b string) int {
	x, _ := strconv.Atoi(a)
	y, _ := strconv.Atoi(b)
	return x - y
}

// read returns one note as Markdown.
func (nb *notebook) read(_ context.Context, uri string, vars map[string]string) ([]content.ResourceContents, error) {
	n, ok := nb.get(vars["id"])
	if !ok {
		return nil, fmt.Errorf("%w: no note %q", provider.ErrNotFound, vars["id"])
	}
	return provider.TextContents(uri, "text/markdown", "# "+n.Title+"\n\n"+n.Body), nil
}

func (nb *notebook) get(id string) (note, bool) {
	nb.mu.Lock()
	defer nb.mu.Unlock()
	n, ok := nb.notes[id]
	return n, ok
}

// ids offers note ids for completion.
func (nb *notebook) ids(context.Context, string, string, map[string]string) ([]string, error) {
	nb.mu.Lock()
	defer nb.mu.Unlock()
	return slices.SortedFunc(maps.Keys(nb.notes), compareIDs), nil
}

type addIn struct {
	Title string `json:"title" jsonschema:"a short title"`
	Body  string `json:"body,omitempty" jsonschema:"the text of the note, in Markdown"`
}

type added struct {
	ID  string `json:"id" jsonschema:"the new note's id"`
	URI string `json:"uri" jsonschema:"where to read it"`
}

// add stores a note; subscribers of the index hear of it.
func (nb *notebook) add(_ context.Context, in addIn) (added, error) {
	if in.Title == "" {
		return added{}, provider.Errorf("a note needs a title")
	}
	nb.mu.Lock()
	nb.next++
	id := strconv.Itoa(nb.next)
	nb.notes[id] = note{ID: id, Title: in.Title, Body: in.Body}
	nb.mu.Unlock()
	nb.srv.ResourceChanged(indexURI)
	return added{ID: id, URI: noteURI(id)}, nil
}

type deleteIn struct {
	ID string `json:"id" jsonschema:"the id of the note to delete"`
}

// confirmKey is the key of delete's confirmation request.
const confirmKey = "confirm"

// remove deletes a note after the user confirms it (an elicitation the mesh relays to
// the client); a client without elicitation cannot confirm, so nothing is deleted.
func (nb *notebook) remove(ctx context.Context, in deleteIn) (string, error) {
	n, ok := nb.get(in.ID)
	if !ok {
		return "", provider.Errorf("no note %q", in.ID)
	}
	raw, answered := provider.InputResponse(ctx, confirmKey)
	if !answered {
		if !provider.Declared(provider.Capabilities(ctx).Elicitation) {
			return "", provider.Errorf("deleting needs the user's confirmation, and this client cannot ask for it")
		}
		return "", &provider.InputRequired{Requests: map[string]provider.InputRequest{
			confirmKey: provider.Elicit(fmt.Sprintf("Delete the note %q?", n.Title), map[string]any{
				"type": "object", "properties": map[string]any{"confirm": map[string]string{"type": "boolean"}}, "required": []string{"confirm"},
			}),
		}}
	}
	var answer struct {
		Action  string `json:"action"`
		Content struct {
			Confirm bool `json:"confirm"`
		} `json:"content"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return "", provider.Errorf("the confirmation is not an elicitation result: %v", err)
	}
	if answer.Action != "accept" || !answer.Content.Confirm {
		return "Kept note " + in.ID + ".", nil
	}
	nb.mu.Lock()
	delete(nb.notes, in.ID)
	nb.mu.Unlock()
	nb.srv.ResourceChanged(indexURI)
	nb.srv.ResourceChanged(noteURI(in.ID))
	return "Deleted note " + in.ID + ".", nil
}

// summarize asks the model to summarize one note, which it embeds.
func (nb *notebook) summarize(_ context.Context, args map[string]string) ([]provider.PromptMessage, error) {
	n, ok := nb.get(args["id"])
	if !ok {
		return nil, fmt.Errorf("%w: no note %q", provider.ErrInvalidArgument, args["id"])
	}
	return []provider.PromptMessage{
		provider.UserMessage(content.Embedded(content.ResourceContents{URI: noteURI(n.ID), MimeType: "text/markdown", Text: "# " + n.Title + "\n\n" + n.Body})),
		provider.UserMessage(content.Text("Summarize the note above in one sentence.")),
	}, nil
}

// newProvider builds the notes provider with an empty notebook.
func newProvider(logger *slog.Logger) (*provider.Server, error) {
	nb := &notebook{notes: map[string]note{}}
	srv, err := provider.New(provider.Options{
		Name:         "notes",
		Version:      "1.0.0",
		Instructions: "A notebook: read notes://index and notes://{id}, add and delete notes, summarize one with the prompt.",
		Logger:       logger,
	},
		provider.Resource(indexURI, "index", nb.index, provider.MimeType("application/json"), provider.Described("Every note's id and title.")),
		provider.ResourceTemplate(noteTemplate, "note", nb.read, provider.MimeType("text/markdown"), provider.Described("One note."), provider.CompletedBy(nb.ids)),
		provider.Tool("add_note", "Adds a note and returns its id.", nb.add),
		provider.Tool("delete_note", "Deletes a note, after the user confirms.", nb.remove),
		provider.Prompt("summarize", "Summarizes a note.", []provider.PromptArgument{{Name: "id", Description: "the note's id", Required: true}},
			nb.summarize, provider.CompletedBy(nb.ids)),
	)
	if err != nil {
		return nil, fmt.Errorf("build the notes provider: %w", err)
	}
	nb.srv = srv
	return srv, nil
}
