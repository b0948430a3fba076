package mcpjson

// logLevels are MCP's syslog levels, least severe first.
var logLevels = [...]string{"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}

// LogSeverity returns the rank of level (0 for debug) and whether it is a valid level.
func LogSeverity(level string) (int, bool) {
	for i, l := range logLevels {
		if l == level {
			return i, true
		}
	}
	return 0, false
}

// LogAllowed reports whether a message at level may be sent to a client that asked for
// threshold. An empty threshold means the client asked for nothing: send nothing.
func LogAllowed(level, threshold string) bool {
	t, ok := LogSeverity(threshold)
	if !ok {
		return false
	}
	l, ok := LogSeverity(level)
	if !ok {
		// A level MCP does not know would make the notification invalid: drop it.
		return false
	}
	return l >= t
}
