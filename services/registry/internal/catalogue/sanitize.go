package catalogue

import (
	"bytes"
	"encoding/json"
	"fmt"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
)

// Sanitize returns the part of a provider's catalogue the registry can serve: entries
// without a name (or URI), duplicates within the provider and tools whose JSON fields
// are not JSON objects are dropped, each with a problem to log. The input is not
// modified; kept entries are shared, not copied.
func Sanitize(cat *mcpv1.Catalogue) (*mcpv1.Catalogue, []string) {
	out := &mcpv1.Catalogue{}
	if cat == nil {
		return out, nil
	}
	var problems []string
	seen := map[string]bool{}
	for _, t := range cat.GetTools() {
		switch {
		case t.GetName() == "":
			problems = append(problems, "tool without a name")
		case seen[t.GetName()]:
			problems = append(problems, fmt.Sprintf("tool %q listed twice", t.GetName()))
		case !optionalObject(t.GetInputSchema()) || !optionalObject(t.GetOutputSchema()) || !optionalObject(t.GetAnnotations()):
			problems = append(problems, fmt.Sprintf("tool %q: schema or annotations are not JSON objects", t.GetName()))
		default:
			seen[t.GetName()] = true
			out.Tools = append(out.Tools, t)
		}
	}
	clear(seen)
	for _, r := range cat.GetResources() {
		switch {
		case r.GetUri() == "":
			problems = append(problems, "resource without a URI")
		case seen[r.GetUri()]:
			problems = append(problems, fmt.Sprintf("resource %q listed twice", r.GetUri()))
		default:
			seen[r.GetUri()] = true
			out.Resources = append(out.Resources, r)
		}
	}
	clear(seen)
	for _, r := range cat.GetResourceTemplates() {
		switch {
		case r.GetUriTemplate() == "":
			problems = append(problems, "resource template without a URI template")
		case seen[r.GetUriTemplate()]:
			problems = append(problems, fmt.Sprintf("resource template %q listed twice", r.GetUriTemplate()))
		default:
			seen[r.GetUriTemplate()] = true
			out.ResourceTemplates = append(out.ResourceTemplates, r)
		}
	}
	clear(seen)
	for _, p := range cat.GetPrompts() {
		switch {
		case p.GetName() == "":
			problems = append(problems, "prompt without a name")
		case seen[p.GetName()]:
			problems = append(problems, fmt.Sprintf("prompt %q listed twice", p.GetName()))
		default:
			seen[p.GetName()] = true
			out.Prompts = append(out.Prompts, p)
		}
	}
	return out, problems
}

// optionalObject accepts absent JSON or a valid JSON object.
func optionalObject(raw []byte) bool {
	if len(raw) == 0 {
		return true
	}
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(raw)
}
