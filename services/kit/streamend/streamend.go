// Package streamend reads the end of a gRPC server stream whose last message has
// arrived.
//
// A caller that stops reading at the last message a stream's contract allows (a
// tool call's result, a request's answer) and then cancels its context ends the call
// as CANCELLED on its side, although the server finished it: grpc-go and the mesh's
// in-process channel both end the client's side when it reads the end or leaves, so
// the client span is an error and rpc.client.call.duration counts a CANCELLED call
// for every successful one. Reading the end records the status the server sent.
package streamend

import (
	"errors"
	"io"
)

// ErrMessageAfterLast is returned when a message came where the end was due.
var ErrMessageAfterLast = errors.New("a message came after the stream's last one")

// Read reads the end of a stream whose last message has arrived (recv is its Recv
// method): nil when the stream ended as it should (io.EOF, the server's OK status),
// ErrMessageAfterLast when it sent more, or the error that ended it. The server ends
// its side when its handler returns, right after the last message, so the wait is
// that return (in process) or the trailers that follow the message (over the network).
func Read[T any](recv func() (T, error)) error {
	_, err := recv()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return ErrMessageAfterLast
	}
	return err
}
