// Package completion answers completion/complete requests: it decodes the reference and
// filters candidate values by prefix.
package completion

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mcpmesh/mcpmesh/services/everything/internal/faults"
)

// MaxValues is MCP's limit on values in one completion result.
const MaxValues = 100

// Reference is a decoded completion reference.
type Reference struct {
	Type string `json:"type"`
	Name string `json:"name"`
	URI  string `json:"uri"`
}

// Reference types.
const (
	PromptRef   = "ref/prompt"
	ResourceRef = "ref/resource"
)

// ParseReference decodes and checks a reference.
func ParseReference(raw []byte) (Reference, error) {
	var ref Reference
	if err := json.Unmarshal(raw, &ref); err != nil {
		return Reference{}, fmt.Errorf("%w: completion reference is not a JSON object", faults.ErrInvalidArgument)
	}
	switch {
	case ref.Type == PromptRef && ref.Name != "":
	case ref.Type == ResourceRef && ref.URI != "":
	default:
		return Reference{}, fmt.Errorf("%w: completion reference needs type ref/prompt with a name or ref/resource with a uri", faults.ErrInvalidArgument)
	}
	return ref, nil
}

// Filter keeps the candidates that start with prefix (case-insensitively), up to
// MaxValues. total counts every match.
func Filter(candidates []string, prefix string) (values []string, total int, hasMore bool) {
	values = []string{}
	for _, c := range candidates {
		if len(c) < len(prefix) || !strings.EqualFold(c[:len(prefix)], prefix) {
			continue
		}
		total++
		if len(values) < MaxValues {
			values = append(values, c)
		}
	}
	return values, total, total > len(values)
}
