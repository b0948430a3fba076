// Package mcpproto names the protocol constants every part of the MCP wire shares:
// JSON-RPC error codes, the _meta keys of the protocol and the method names the mesh
// acts on. They are defined here once; the gateway, the transport, the session
// service and the stdio bridge use these names instead of their own copies.
//
// The values come from the JSON-RPC 2.0 specification and the MCP schemas
// (2024-11-05 to 2026-07-28); mcpversion names the protocol versions.
package mcpproto

// JSON-RPC 2.0 error codes, and the codes MCP adds. Untyped, so they fit the int of
// an encoder and the int32 of a protobuf field alike.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
	// CodeResourceNotFound answers resources/read for an unknown URI (stateful
	// generation; the stateless one answers CodeInvalidParams).
	CodeResourceNotFound = -32002
	// CodeHeaderMismatch: an HTTP header disagrees with the body (2026-07-28).
	CodeHeaderMismatch = -32020
	// CodeMissingClientCapability is MissingRequiredClientCapability (2026-07-28).
	CodeMissingClientCapability = -32021
	// CodeUnsupportedProtocolVersion (2026-07-28), with data {supported, requested}.
	CodeUnsupportedProtocolVersion = -32022
	// CodeServerError is the mesh's own server error (JSON-RPC reserves -32000 to
	// -32099 for implementations), for refusals MCP has no code for: a request the
	// gateway's rate limit rejected, a task over the session's task limit. The message
	// and data say which.
	CodeServerError = -32000
)

// _meta keys of the protocol (reserved prefix io.modelcontextprotocol/).
const (
	MetaProtocolVersion    = "io.modelcontextprotocol/protocolVersion"
	MetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
	MetaClientInfo         = "io.modelcontextprotocol/clientInfo"
	MetaLogLevel           = "io.modelcontextprotocol/logLevel"
	MetaServerInfo         = "io.modelcontextprotocol/serverInfo"
	MetaSubscriptionID     = "io.modelcontextprotocol/subscriptionId"
	MetaRelatedTask        = "io.modelcontextprotocol/related-task"
	// ExtensionTasks names the tasks extension in capabilities.
	ExtensionTasks = "io.modelcontextprotocol/tasks"
)

// Requests the mesh treats specially.
const (
	MethodInitialize          = "initialize"
	MethodToolsCall           = "tools/call"
	MethodPromptsGet          = "prompts/get"
	MethodResourcesRead       = "resources/read"
	MethodSubscriptionsListen = "subscriptions/listen"
)

// Requests a server makes of the client for input (server-to-client requests before
// 2026-07-28, input requests of an input_required result from then on).
const (
	MethodSamplingCreateMessage = "sampling/createMessage"
	MethodElicitationCreate     = "elicitation/create"
	MethodRootsList             = "roots/list"
)

// Notifications the mesh sends or acts on.
const (
	NotificationInitialized               = "notifications/initialized"
	NotificationCancelled                 = "notifications/cancelled"
	NotificationProgress                  = "notifications/progress"
	NotificationMessage                   = "notifications/message"
	NotificationResourcesUpdated          = "notifications/resources/updated"
	NotificationRootsListChanged          = "notifications/roots/list_changed"
	NotificationSubscriptionsAcknowledged = "notifications/subscriptions/acknowledged"
	NotificationTasksStatus               = "notifications/tasks/status"
)
