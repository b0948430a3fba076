// Package callgrind lets a program under valgrind's callgrind tool zero its counters
// and dump them around the part it wants counted, so that an instruction count leaves
// out start-up. Outside valgrind (and on other architectures) the requests do
// nothing.
//
// The requests are valgrind's client requests (valgrind.h and callgrind.h): a
// sequence of rotations that changes nothing, which valgrind recognises, with the
// request in a block that AX points to.
package callgrind

import (
	"runtime"
	"unsafe"
)

// The callgrind requests, VG_USERREQ_TOOL_BASE('C','T') onwards (callgrind.h).
const (
	toolBase  = uintptr('C')<<24 | uintptr('T')<<16
	dumpStats = toolBase + 0
	zeroStats = toolBase + 1
)

// ZeroStats zeroes every counter: what runs from here on is counted.
func ZeroStats() { request(zeroStats, nil) }

// DumpStats writes the counters since the last zero or dump to a new part of the
// output file (callgrind.out.PID.N), with reason as its trigger line, and zeroes them.
func DumpStats(reason string) {
	b := append([]byte(reason), 0)
	request(dumpStats, &b[0])
}

func request(code uintptr, arg *byte) {
	block := [6]uintptr{code, uintptr(unsafe.Pointer(arg))}
	clientRequest(&block)
	runtime.KeepAlive(arg)
}
