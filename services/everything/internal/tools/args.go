package tools

import (
	"fmt"

	"github.com/mcpmesh/mcpmesh/sdk/provider"
)

// decodeArgs decodes a tool's JSON arguments into v. Empty arguments and JSON null mean
// "no arguments". strict rejects arguments the schema does not name. Its errors are
// sentences a model can act on.
func decodeArgs(args []byte, v any, strict bool) error {
	if strict {
		return provider.DecodeArgumentsStrictly(args, v)
	}
	return provider.DecodeArguments(args, v)
}

// invalidArgs is the isError result for arguments that fail to decode or validate.
func invalidArgs(call *Call, err error) (Outcome, error) {
	return errorResult(fmt.Sprintf("Invalid arguments for tool %s: %s", call.Name, err))
}

// missing is the validation error for an absent required argument.
func missing(name string) error { return fmt.Errorf("argument %q is required", name) }
