package federation

import (
	"encoding/json"
	"fmt"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
)

// The upstream's catalogue entries are converted through their JSON form, so that
// every field the SDK carries (including ones newer than this code) reaches the mesh
// as the upstream sent it.

type wireTool struct {
	Name         string          `json:"name"`
	Title        string          `json:"title"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema"`
	Annotations  json.RawMessage `json:"annotations"`
	Icons        json.RawMessage `json:"icons"`
	Meta         json.RawMessage `json:"_meta"`
	Execution    json.RawMessage `json:"execution"`
}

type wireResource struct {
	URI         string          `json:"uri"`
	URITemplate string          `json:"uriTemplate"`
	Name        string          `json:"name"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	MIMEType    string          `json:"mimeType"`
	Size        int64           `json:"size"`
	Annotations json.RawMessage `json:"annotations"`
	Icons       json.RawMessage `json:"icons"`
	Meta        json.RawMessage `json:"_meta"`
}

type wirePrompt struct {
	Name        string          `json:"name"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Arguments   []wireArgument  `json:"arguments"`
	Icons       json.RawMessage `json:"icons"`
	Meta        json.RawMessage `json:"_meta"`
}

type wireArgument struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
}

type wireToolResult struct {
	Content           json.RawMessage `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent"`
	IsError           bool            `json:"isError"`
	Meta              json.RawMessage `json:"_meta"`
}

// rewire converts v to T through JSON.
func rewire[T any](v any) (T, error) {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		return out, fmt.Errorf("encode %T: %w", v, err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("decode %T: %w", v, err)
	}
	return out, nil
}

// raw drops JSON null, which the mesh's open-JSON fields leave empty instead.
func raw(m json.RawMessage) []byte {
	if len(m) == 0 || string(m) == "null" {
		return nil
	}
	return m
}

func toolProto(w wireTool, name string) *mcpv1.Tool {
	return &mcpv1.Tool{
		Name: name, Title: w.Title, Description: w.Description,
		InputSchema: raw(w.InputSchema), OutputSchema: raw(w.OutputSchema), Annotations: raw(w.Annotations),
		Icons: raw(w.Icons), Meta: raw(w.Meta), Execution: raw(w.Execution),
	}
}

func resourceProto(w wireResource) *mcpv1.Resource {
	return &mcpv1.Resource{
		Uri: w.URI, Name: w.Name, Title: w.Title, Description: w.Description, MimeType: w.MIMEType, Size: w.Size,
		Annotations: raw(w.Annotations), Icons: raw(w.Icons), Meta: raw(w.Meta),
	}
}

func templateProto(w wireResource) *mcpv1.ResourceTemplate {
	return &mcpv1.ResourceTemplate{
		UriTemplate: w.URITemplate, Name: w.Name, Title: w.Title, Description: w.Description, MimeType: w.MIMEType,
		Annotations: raw(w.Annotations), Icons: raw(w.Icons), Meta: raw(w.Meta),
	}
}

func promptProto(w wirePrompt, name string) *mcpv1.Prompt {
	args := make([]*mcpv1.PromptArgument, len(w.Arguments))
	for i, a := range w.Arguments {
		args[i] = &mcpv1.PromptArgument{Name: a.Name, Title: a.Title, Description: a.Description, Required: a.Required}
	}
	return &mcpv1.Prompt{
		Name: name, Title: w.Title, Description: w.Description, Arguments: args,
		Icons: raw(w.Icons), Meta: raw(w.Meta),
	}
}

func toolResultProto(w wireToolResult) *mcpv1.ToolResult {
	content := raw(w.Content)
	if content == nil {
		content = []byte("[]")
	}
	return &mcpv1.ToolResult{Content: content, StructuredContent: raw(w.StructuredContent), IsError: w.IsError, Meta: raw(w.Meta)}
}
