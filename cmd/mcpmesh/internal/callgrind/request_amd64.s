#include "textflag.h"

// func clientRequest(block *[6]uintptr) uintptr
// valgrind's "special instruction preamble" followed by xchgq %rbx,%rbx: a client
// request with AX pointing at the block; the answer comes back in DX (0 when not
// running under valgrind).
TEXT ·clientRequest(SB), NOSPLIT, $0-16
	MOVQ block+0(FP), AX
	MOVQ $0, DX
	ROLQ $3, DI
	ROLQ $13, DI
	ROLQ $61, DI
	ROLQ $51, DI
	XCHGQ BX, BX
	MOVQ DX, ret+8(FP)
	RET
