// Package prompts holds the everything provider's prompts: one without arguments, ones
// with required and optional arguments, and ones that embed a resource and an image.
package prompts

import (
	"encoding/json"
	"fmt"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"

	"github.com/mcpmesh/mcpmesh/services/everything/internal/content"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/faults"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/media"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/resources"
)

// message is a PromptMessage.
type message struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

func user(block any) message { return message{Role: "user", Content: block} }

// prompt is a catalogue entry with its renderer and completion candidates.
type prompt struct {
	def *mcpv1.Prompt
	// render builds the messages; required arguments are checked before it runs.
	render func(args map[string]string) []message
	// ask, when set, replaces render for a prompt that needs the client's input: it
	// renders with the answers in rc, or returns the input requests.
	ask func(args map[string]string, rc *mcpv1.RequestContext) ([]message, *mcpv1.InputRequired)
	// values are completion candidates by argument name.
	values map[string][]string
}

// DynamicName is the prompt test_trigger_prompt_change adds and removes.
const DynamicName = "test_dynamic_prompt"

// Rendered is a rendered prompt, or the input it needs first.
type Rendered struct {
	Description string
	// Messages is a JSON array of PromptMessage; nil when InputRequired is set.
	Messages      []byte
	InputRequired *mcpv1.InputRequired
}

// Set is the provider's prompts.
type Set struct {
	list   []prompt
	byName map[string]int
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
			render: func(map[string]string) []message {
				return []message{user(content.Text("This is a simple prompt without arguments."))}
			},
		},
		{
			def: &mcpv1.Prompt{Name: "greet", Title: "Greeting", Description: "Asks for a greeting of someone, in a chosen style.",
				Arguments: []*mcpv1.PromptArgument{
					arg("name", "Name", "Who to greet", true),
					arg("style", "Style", "casual, formal, friendly or pirate (default friendly)", false),
				}},
			render: func(a map[string]string) []message {
				style := a["style"]
				if style == "" {
					style = "friendly"
				}
				return []message{user(content.Text(fmt.Sprintf("Write a %s greeting for %s.", style, a["name"])))}
			},
			values: map[string][]string{
				"name":  {"Ada", "Alan", "Alice", "Bob", "Grace", "Linus"},
				"style": {"casual", "formal", "friendly", "pirate"},
			},
		},
		{
			def: &mcpv1.Prompt{Name: "resource-and-image", Title: "Resource and image",
				Description: "A prompt that embeds the resource " + resources.Static1URI + " and an image."},
			render: func(map[string]string) []message {
				return []message{user(static1), user(img), user(content.Text("Describe the resource and the image above."))}
			},
		},
		{
			def: &mcpv1.Prompt{Name: "test_simple_prompt", Title: "Simple prompt (conformance)", Description: "A simple prompt without arguments."},
			render: func(map[string]string) []message {
				return []message{user(content.Text("This is a simple prompt for testing."))}
			},
		},
		{
			def: &mcpv1.Prompt{Name: "test_prompt_with_arguments", Title: "Prompt with arguments (conformance)",
				Description: "A prompt with two required arguments.",
				Arguments: []*mcpv1.PromptArgument{
					arg("arg1", "", "First test argument", true),
					arg("arg2", "", "Second test argument", true),
				}},
			render: func(a map[string]string) []message {
				return []message{user(content.Text(fmt.Sprintf("Prompt with arguments: arg1='%s', arg2='%s'", a["arg1"], a["arg2"])))}
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
			render: func(a map[string]string) []message {
				return []message{
					user(content.Embedded(content.ResourceContents{URI: a["resourceUri"], MimeType: "text/plain", Text: "Embedded resource content for testing."})),
					user(content.Text("Please process the embedded resource above.")),
				}
			},
			values: map[string][]string{"resourceUri": {resources.Static1URI, "test://example-resource", "test://static-text"}},
		},
		{
			def: &mcpv1.Prompt{Name: "test_prompt_with_image", Title: "Prompt with image (conformance)", Description: "A prompt that includes an image."},
			render: func(map[string]string) []message {
				return []message{user(img), user(content.Text("Please analyze the image above."))}
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
			render: func(map[string]string) []message {
				return []message{user(content.Text("test_dynamic_prompt is listed right now."))}
			},
		},
	}
	s := &Set{list: list, byName: make(map[string]int, len(list))}
	for i, p := range list {
		s.byName[p.def.GetName()] = i
	}
	return s
}

// Definitions lists the prompts. Callers must not modify them.
func (s *Set) Definitions() []*mcpv1.Prompt {
	out := make([]*mcpv1.Prompt, len(s.list))
	for i := range s.list {
		out[i] = s.list[i].def
	}
	return out
}

func (s *Set) lookup(name string) (*prompt, error) {
	i, ok := s.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", faults.ErrUnknownPrompt, name)
	}
	return &s.list[i], nil
}

// Get renders a prompt (its description and messages as a JSON array), or returns the
// client input it needs first. rc is the request's context (nil: none).
func (s *Set) Get(name string, args map[string]string, rc *mcpv1.RequestContext) (Rendered, error) {
	p, err := s.lookup(name)
	if err != nil {
		return Rendered{}, err
	}
	for _, a := range p.def.GetArguments() {
		if a.GetRequired() && args[a.GetName()] == "" {
			return Rendered{}, fmt.Errorf("%w: prompt %q needs argument %q", faults.ErrInvalidArgument, name, a.GetName())
		}
	}
	var msgs []message
	if p.ask != nil {
		var ir *mcpv1.InputRequired
		if msgs, ir = p.ask(args, rc); ir != nil {
			return Rendered{Description: p.def.GetDescription(), InputRequired: ir}, nil
		}
	} else {
		msgs = p.render(args)
	}
	b, err := json.Marshal(msgs)
	if err != nil {
		return Rendered{}, fmt.Errorf("encode prompt %s: %w", name, err)
	}
	return Rendered{Description: p.def.GetDescription(), Messages: b}, nil
}

// keyUserContext is the input request of test_input_required_result_prompt.
const keyUserContext = "user_context"

// askContextRequest is its elicitation, encoded once.
var askContextRequest = []byte(`{"method":"elicitation/create","params":{"mode":"form",` +
	`"message":"What context should the prompt use?",` +
	`"requestedSchema":{"type":"object","properties":{"context":{"type":"string"}},"required":["context"]}}}`)

// askContext renders test_input_required_result_prompt with the user's context, or
// asks for it (again, when the answer is missing or unreadable).
func askContext(_ map[string]string, rc *mcpv1.RequestContext) ([]message, *mcpv1.InputRequired) {
	var answer struct {
		Action  string `json:"action"`
		Content struct {
			Context string `json:"context"`
		} `json:"content"`
	}
	raw, ok := rc.GetInputResponses()[keyUserContext]
	if !ok || json.Unmarshal(raw, &answer) != nil || answer.Action == "" {
		return nil, &mcpv1.InputRequired{
			InputRequests: map[string][]byte{keyUserContext: askContextRequest},
			RequestState:  []byte(`{"prompt":"test_input_required_result_prompt"}`),
		}
	}
	if answer.Action != "accept" || answer.Content.Context == "" {
		return []message{user(content.Text("Write a short answer; the user gave no context."))}, nil
	}
	return []message{user(content.Text("Write a short answer using this context: " + answer.Content.Context))}, nil
}

// CompletionValues returns the candidates for one argument of a prompt (none for an
// argument without candidates).
func (s *Set) CompletionValues(name, argument string) ([]string, error) {
	p, err := s.lookup(name)
	if err != nil {
		return nil, fmt.Errorf("%w: prompt %q", faults.ErrUnknownReference, name)
	}
	return p.values[argument], nil
}
