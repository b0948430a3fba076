package provider

import (
	"context"
	"fmt"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
)

// PromptMessage is one message of a rendered prompt: Content is one content block.
type PromptMessage struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

// PromptFunc renders a prompt from its arguments; the required ones are present. It
// may return an *InputRequired error to ask the client first.
type PromptFunc func(ctx context.Context, args map[string]string) ([]PromptMessage, error)

// PromptArgument declares one argument of a prompt.
type PromptArgument struct {
	Name, Title, Description string
	Required                 bool
}

// promptFeature is a prompt with its renderer and completions.
type promptFeature struct {
	def      *mcpv1.Prompt
	render   PromptFunc
	complete CompleteFunc
	err      error
}

func (p *promptFeature) addTo(c *catalogue) error {
	if p.err != nil {
		return p.err
	}
	return c.addPrompt(p)
}

// Prompt offers a prompt. Options Titled and CompletedBy apply.
func Prompt(name, description string, args []PromptArgument, render PromptFunc, opts ...ResourceOption) Feature {
	f := applyResourceOptions(opts)
	def := &mcpv1.Prompt{Name: name, Title: f.title, Description: description}
	for _, a := range args {
		def.Arguments = append(def.Arguments, &mcpv1.PromptArgument{Name: a.Name, Title: a.Title, Description: a.Description, Required: a.Required})
	}
	return RawPrompt(def, render, f.complete)
}

// RawPrompt offers a prompt from its catalogue entry; complete may be nil.
func RawPrompt(def *mcpv1.Prompt, render PromptFunc, complete CompleteFunc) Feature {
	p := &promptFeature{def: def, render: render, complete: complete}
	if def.GetName() == "" || render == nil {
		p.err = fmt.Errorf("prompt %q: a name and a renderer are required", def.GetName())
	}
	return p
}

// UserMessage is a prompt message from the user with one content block.
func UserMessage(block any) PromptMessage { return PromptMessage{Role: "user", Content: block} }

// AssistantMessage is a prompt message from the assistant with one content block.
func AssistantMessage(block any) PromptMessage {
	return PromptMessage{Role: "assistant", Content: block}
}
