// Package jsonrpc decodes, validates and encodes the single JSON-RPC 2.0 messages that
// MCP clients POST. Decoding uses encoding/json into a struct of json.RawMessage fields,
// so params and ids stay raw bytes; encoding appends bytes directly, echoing the
// request's raw id, so the hot path builds an envelope with one allocation at most.
//
// Validation choices (MCP is stricter than plain JSON-RPC):
//   - Decode takes one JSON object; an array (a batch) is -32600 "batches are not
//     supported", any other JSON value is -32600; malformed JSON is -32700 with no id.
//     Batches (2025-03-26 only, the server decides) go through IsBatch, SplitBatch
//     (malformed -32700, empty -32600) and DecodeElement per element (a nested array
//     is -32600); AppendBatch encodes the array of responses;
//   - "jsonrpc" must be the string "2.0";
//   - an id must be a string or an integer written without fraction or exponent; null,
//     fractions, objects, arrays and booleans are -32600 (answered without an id);
//   - "method", when present, must be a non-empty string;
//   - "params", when present, must be an object: anything else (array, scalar, null) is
//     -32602 Invalid params, because it is a well-formed JSON-RPC request that MCP
//     cannot take (MCP params are always objects);
//   - a request or notification must not carry "result" or "error"; a response must
//     carry exactly one of them and no "method".
//
// encoding/json matches member names case-insensitively and keeps the last of duplicate
// members; this package inherits that leniency.
package jsonrpc
