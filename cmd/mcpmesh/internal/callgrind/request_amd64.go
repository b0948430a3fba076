package callgrind

//go:noescape
func clientRequest(block *[6]uintptr) uintptr
