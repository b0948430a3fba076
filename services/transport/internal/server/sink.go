package server

import (
	"encoding/json"

	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"google.golang.org/grpc"

	"github.com/mcpmesh/mcpmesh/services/transport/internal/jsonrpc"
)

// sink writes the events of an Exchange or Listen stream: one head, then messages.
type sink interface {
	head(h *transportv1.ResponseHead) error
	message(data []byte, eventID string) error
}

type exchangeSink struct {
	stream grpc.ServerStreamingServer[transportv1.ExchangeResponse]
}

func (s exchangeSink) head(h *transportv1.ResponseHead) error {
	return s.stream.Send(&transportv1.ExchangeResponse{Event: &transportv1.ExchangeResponse_Head{Head: h}})
}

func (s exchangeSink) message(data []byte, eventID string) error {
	return s.stream.Send(&transportv1.ExchangeResponse{Event: &transportv1.ExchangeResponse_Message{
		Message: &transportv1.Message{Data: data, EventId: eventID},
	}})
}

type listenSink struct {
	stream grpc.ServerStreamingServer[transportv1.ListenResponse]
}

func (s listenSink) head(h *transportv1.ResponseHead) error {
	return s.stream.Send(&transportv1.ListenResponse{Event: &transportv1.ListenResponse_Head{Head: h}})
}

func (s listenSink) message(data []byte, eventID string) error {
	return s.stream.Send(&transportv1.ListenResponse{Event: &transportv1.ListenResponse_Message{
		Message: &transportv1.Message{Data: data, EventId: eventID},
	}})
}

// prime writes the priming event that opens a resumable (stateful) event stream: an
// event id and no data (SEP-1699). It gives the client a Last-Event-ID before the first
// message, so even a stream that breaks at once can be resumed; clients skip events
// with empty data. Stateless streams (nil ids) are not resumable and get none.
func prime(out sink, ids *eventIDs) error {
	if ids == nil {
		return nil
	}
	return out.message(nil, ids.next())
}

// headOnly answers with a status and no body (202 Accepted, 405).
func headOnly(out sink, status int) error {
	return out.head(&transportv1.ResponseHead{HttpStatus: int32(status), Framing: transportv1.Framing_FRAMING_NONE})
}

// fail answers with a status and one JSON-RPC error as an application/json body.
func fail(out sink, status int, id json.RawMessage, code int, message string, data []byte) error {
	if err := out.head(&transportv1.ResponseHead{HttpStatus: int32(status), Framing: transportv1.Framing_FRAMING_JSON}); err != nil {
		return err
	}
	return out.message(jsonrpc.AppendError(nil, id, code, message, data), "")
}
