// Package faults holds the domain errors of the everything provider. The service edge maps
// them to gRPC status codes in one place; everything below only wraps them.
package faults

import "errors"

var (
	// ErrUnknownTool: no tool has the requested name.
	ErrUnknownTool = errors.New("unknown tool")
	// ErrUnknownResource: no resource or template matches the URI.
	ErrUnknownResource = errors.New("unknown resource")
	// ErrUnknownPrompt: no prompt has the requested name.
	ErrUnknownPrompt = errors.New("unknown prompt")
	// ErrUnknownReference: a completion reference names nothing this provider offers.
	ErrUnknownReference = errors.New("unknown reference")
	// ErrInvalidArgument: the request itself is malformed (a missing required prompt
	// argument, an unreadable completion reference). Bad tool arguments are NOT this:
	// MCP reports them as tool results with isError.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrDeliberate: a fixture that fails on purpose (protocol_error_job), so that clients
	// can see how a failed provider call looks. Not logged as a fault.
	ErrDeliberate = errors.New("deliberate failure")
)
