// Package prompts holds the everything provider's prompts: one without arguments, ones
// with required and optional arguments, ones that embed a resource and an image, and
// one that asks the user for input first.
package prompts

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	"github.com/mcpmesh/mcpmesh/sdk/provider"

	"github.com/mcpmesh/mcpmesh/sdk/provider/content"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/media"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/resources"
)

// prompt is a catalogue entry with its renderer and completion candidates.
type prompt struct {
	def *mcpv1.Prompt
	// render builds the messages; the SDK checks required arguments before it runs.
	render func(args map[string]string) []provider.PromptMessage
	// ask, when set, replaces render for a prompt that needs the client's input: it
	// renders with the answers, or returns an *provider.InputRequired.
	ask provider.PromptFunc
	// values are completion candidates by argument name.
	values map[string][]string
}

// DynamicName is the prompt test_trigger_prompt_change adds and removes.
const DynamicName = "test_dynamic_prompt"

// Set is the provider's prompts.
type Set struct {
	list []prompt
}

func arg(name, title, description string, required bool) *mcpv1.PromptArgument {
	return &mcpv1.PromptArgument{Name: name, Title: title, Description: description, Required: required}
}

// NewSet builds the prompts. assets supplies the image sample.
func NewSet(assets media.Assets) *Set {
	img := content.Image(assets.PNGBase64, "image/png")
	static1 := content.Embedded(content.ResourceContents{URI: resources.Static1URI, MimeType: "text/plain", Text: resources.Static1Text})
	list := []prompt{
		{
			def: &mcpv1.Prompt{Name: "simple", Title: "Simple prompt", Description: "A prompt without arguments."},
			render: func(map[string]string) []provider.PromptMessage {
				return []provider.PromptMessage{provider.UserMessage(content.Text("This is a simple prompt without arguments."))}
			},
		},
		{
			def: &mcpv1.Prompt{Name: "greet", Title: "Greeting", Description: "Asks for a greeting of someone, in a chosen style.",
				Arguments: []*mcpv1.PromptArgument{
					arg("name", "Name", "Who to greet", true),
					arg("style", "Style", "casual, formal, friendly or pirate (default friendly)", false),
				}},
			render: func(a map[string]string) []provider.PromptMessage {
				style := a["style"]
				if style == "" {
					style = "friendly"
				}
				return []provider.PromptMessage{provider.UserMessage(content.Text(fmt.Sprintf("Write a %s greeting for %s.", style, a["name"])))}
			},
			values: map[string][]string{
				"name":  {"Ada", "Alan", "Alice", "Bob", "Grace", "Linus"},
				"style": {"casual", "formal", "friendly", "pirate"},
			},
		},
		{
			def: &mcpv1.Prompt{Name: "resource-and-image", Title: "Resource and image",
				Description: "A prompt that embeds the resource " + resources.Static1URI + " and an image."},
			render: func(map[string]string) []provider.PromptMessage {
				return []provider.PromptMessage{provider.UserMessage(static1), provider.UserMessage(img), provider.UserMessage(content.Text("Describe the resource and the image above."))}
			},
		},
		{
			def: &mcpv1.Prompt{Name: "test_simple_prompt", Title: "Simple prompt (conformance)", Description: "A simple prompt without arguments."},
			render: func(map[string]string) []provider.PromptMessage {
				return []provider.PromptMessage{provider.UserMessage(content.Text("This is a simple prompt for testing."))}
			},
		},
		{
			def: &mcpv1.Prompt{Name: "test_prompt_with_arguments", Title: "Prompt with arguments (conformance)",
				Description: "A prompt with two required arguments.",
				Arguments: []*mcpv1.PromptArgument{
					arg("arg1", "", "First test argument", true),
					arg("arg2", "", "Second test argument", true),
				}},
			render: func(a map[string]string) []provider.PromptMessage {
				return []provider.PromptMessage{provider.UserMessage(content.Text(fmt.Sprintf("Prompt with arguments: arg1='%s', arg2='%s'", a["arg1"], a["arg2"])))}
			},
			values: map[string][]string{
				"arg1": {"paris", "park", "party", "test", "testing"},
				"arg2": {"world", "wonder", "test"},
			},
		},
		{
			def: &mcpv1.Prompt{Name: "test_prompt_with_embedded_resource", Title: "Prompt with embedded resource (conformance)",
				Description: "A prompt that embeds the resource it is given.",
				Arguments:   []*mcpv1.PromptArgument{arg("resourceUri", "", "URI of the resource to embed", true)}},
			render: func(a map[string]string) []provider.PromptMessage {
				return []provider.PromptMessage{
					provider.UserMessage(content.Embedded(content.ResourceContents{URI: a["resourceUri"], MimeType: "text/plain", Text: "Embedded resource content for testing."})),
					provider.UserMessage(content.Text("Please process the embedded resource above.")),
				}
			},
			values: map[string][]string{"resourceUri": {resources.Static1URI, "test://example-resource", "test://static-text"}},
		},
		{
			def: &mcpv1.Prompt{Name: "test_prompt_with_image", Title: "Prompt with image (conformance)", Description: "A prompt that includes an image."},
			render: func(map[string]string) []provider.PromptMessage {
				return []provider.PromptMessage{provider.UserMessage(img), provider.UserMessage(content.Text("Please analyze the image above."))}
			},
		},
		{
			def: &mcpv1.Prompt{Name: "test_input_required_result_prompt", Title: "Prompt that asks for input (conformance)",
				Description: "Asks the user which context to use (input_required, key user_context), then renders a prompt with it."},
			ask: askContext,
		},
		{
			def: &mcpv1.Prompt{Name: DynamicName, Title: "Dynamic prompt",
				Description: "Listed only while test_trigger_prompt_change has added it."},
			render: func(map[string]string) []provider.PromptMessage {
				return []provider.PromptMessage{provider.UserMessage(content.Text("test_dynamic_prompt is listed right now."))}
			},
		},
	}
	return &Set{list: list}
}

// feature offers one prompt through the provider SDK.
func (p *prompt) feature() provider.Feature {
	render := p.ask
	if render == nil {
		render = func(_ context.Context, args map[string]string) ([]provider.PromptMessage, error) {
			return p.render(args), nil
		}
	}
	values := p.values
	return provider.RawPrompt(p.def, render, func(_ context.Context, argument, _ string, _ map[string]string) ([]string, error) {
		return values[argument], nil
	})
}

// Features offers every prompt but those named in hidden, in catalogue order.
func (s *Set) Features(hidden ...string) []provider.Feature {
	var out []provider.Feature
	for i := range s.list {
		if !slices.Contains(hidden, s.list[i].def.GetName()) {
			out = append(out, s.list[i].feature())
		}
	}
	return out
}

// Feature offers the prompt called name; nil when there is none.
func (s *Set) Feature(name string) provider.Feature {
	for i := range s.list {
		if s.list[i].def.GetName() == name {
			return s.list[i].feature()
		}
	}
	return nil
}

// keyUserContext is the input request of test_input_required_result_prompt.
const keyUserContext = "user_context"

// askContext renders test_input_required_result_prompt with the user's context, or
// asks for it (again, when the answer is missing or unreadable).
func askContext(ctx context.Context, _ map[string]string) ([]provider.PromptMessage, error) {
	var answer struct {
		Action  string `json:"action"`
		Content struct {
			Context string `json:"context"`
		} `json:"content"`
	}
	raw, ok := provider.InputResponse(ctx, keyUserContext)
	if !ok || json.Unmarshal(raw, &answer) != nil || answer.Action == "" {
		return nil, &provider.InputRequired{
			Requests: map[string]provider.InputRequest{keyUserContext: provider.Elicit("What context should the prompt use?", map[string]any{
				"type": "object", "properties": map[string]any{"context": map[string]string{"type": "string"}}, "required": []string{"context"},
			})},
			State: map[string]string{"prompt": "test_input_required_result_prompt"},
		}
	}
	if answer.Action != "accept" || answer.Content.Context == "" {
		return []provider.PromptMessage{provider.UserMessage(content.Text("Write a short answer; the user gave no context."))}, nil
	}
	return []provider.PromptMessage{provider.UserMessage(content.Text("Write a short answer using this context: " + answer.Content.Context))}, nil
}
