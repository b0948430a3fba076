package provider

import (
	"encoding/json"
	"strings"
)

// MaxCompletions is MCP's limit on values in one completion result.
const MaxCompletions = 100

// Completion reference types.
const (
	promptRef   = "ref/prompt"
	resourceRef = "ref/resource"
)

// reference is a decoded completion reference.
type reference struct {
	Type string `json:"type"`
	Name string `json:"name"`
	URI  string `json:"uri"`
}

// parseReference decodes and checks a completion reference.
func parseReference(raw []byte) (reference, error) {
	var ref reference
	if err := json.Unmarshal(raw, &ref); err != nil {
		return reference{}, invalid("completion reference is not a JSON object")
	}
	switch {
	case ref.Type == promptRef && ref.Name != "":
	case ref.Type == resourceRef && ref.URI != "":
	default:
		return reference{}, invalid("completion reference needs type ref/prompt with a name or ref/resource with a uri")
	}
	return ref, nil
}

// filterPrefix keeps the candidates that start with prefix (case-insensitively), up to
// MaxCompletions; total counts every match.
func filterPrefix(candidates []string, prefix string) (values []string, total int, hasMore bool) {
	values = []string{}
	for _, c := range candidates {
		if len(c) < len(prefix) || !strings.EqualFold(c[:len(prefix)], prefix) {
			continue
		}
		total++
		if len(values) < MaxCompletions {
			values = append(values, c)
		}
	}
	return values, total, total > len(values)
}
