package grpcsource

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// guardedCodec is gRPC's protobuf codec with the decoding of a response guarded: the
// protobuf runtime's reflective decoder, which dynamic messages use, can panic on
// malformed wire data (a map entry that repeats its key with another wire type, found
// by FuzzOutputSchemaAdmitsProtojson), and what a service sends must never take the
// mesh down. A panic becomes an error, which gRPC reports as INTERNAL.
type guardedCodec struct {
	encoding.CodecV2
}

func newGuardedCodec() guardedCodec {
	return guardedCodec{encoding.GetCodecV2(protocodec.Name)}
}

func (c guardedCodec) Unmarshal(data mem.BufferSlice, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed message from the service: %v", p)
		}
	}()
	return c.CodecV2.Unmarshal(data, v)
}
