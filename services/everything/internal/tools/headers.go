package tools

import (
	"context"
	"fmt"
)

// schemaCustomHeaders annotates arguments with x-mcp-header (SEP-2243): 2026-07-28 HTTP
// clients mirror them into Mcp-Param-Region, Mcp-Param-Priority and Mcp-Param-Verbose
// headers, and the mesh refuses a request whose headers and body disagree.
const schemaCustomHeaders = `{"type":"object","properties":{` +
	`"region":{"type":"string","description":"Where to route the query","x-mcp-header":"Region"},` +
	`"priority":{"type":"integer","description":"Priority of the query","x-mcp-header":"Priority"},` +
	`"verbose":{"type":"boolean","description":"Return details","x-mcp-header":"Verbose"},` +
	`"query":{"type":"string","description":"The query (not mirrored into a header)"}},` +
	`"required":["region","priority","query"]}`

type customHeadersArgs struct {
	Region   string `json:"region"`
	Priority int64  `json:"priority"`
	Verbose  *bool  `json:"verbose"`
	Query    string `json:"query"`
}

// runCustomHeaders: test_custom_headers returns what it was asked to route.
func runCustomHeaders(_ context.Context, call *Call) (Outcome, error) {
	var args customHeadersArgs
	if err := decodeArgs(call.Arguments, &args, false); err != nil {
		return invalidArgs(call, err)
	}
	text := fmt.Sprintf("Routed %q to region %q with priority %d", args.Query, args.Region, args.Priority)
	if args.Verbose != nil && *args.Verbose {
		text += " (verbose)"
	}
	return textResult(text + ".")
}
