package catalogue

import "github.com/mcpmesh/mcpmesh/services/kit/mcpversion"

// Class groups protocol versions that render catalogue entries the same way.
type Class int

// The rendering classes, oldest first.
const (
	// ClassLegacy is before 2025-06-18: no title, outputSchema, icons, _meta or execution.
	ClassLegacy Class = iota
	// Class20250618 adds title, outputSchema and _meta.
	Class20250618
	// Class20251125 adds icons and execution.
	Class20251125
	// ClassStateless is 2026-07-28: icons yes, execution no (tasks moved to an extension).
	ClassStateless
	numClasses
)

// ClassOf returns the rendering class of a protocol version.
func ClassOf(version string) Class {
	switch {
	case mcpversion.IsStateless(version):
		return ClassStateless
	case mcpversion.AtLeast(version, mcpversion.V20251125):
		return Class20251125
	case mcpversion.AtLeast(version, mcpversion.V20250618):
		return Class20250618
	default:
		return ClassLegacy
	}
}

func (c Class) hasTitleAndMeta() bool { return c >= Class20250618 }
func (c Class) hasIcons() bool        { return c >= Class20251125 }
func (c Class) hasExecution() bool    { return c == Class20251125 }
