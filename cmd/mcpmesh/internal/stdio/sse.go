package stdio

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"time"
)

// maxEventSize bounds one server-sent event, so a broken stream cannot exhaust memory.
const maxEventSize = 64 << 20

var errEventTooLarge = errors.New("server-sent event larger than 64 MiB")

// event is one server-sent event: its data lines joined by "\n", and the id and retry
// fields when it had them.
type event struct {
	data     []byte
	id       string
	hasID    bool
	retry    time.Duration
	hasRetry bool
}

// sseReader reads the text/event-stream format (WHATWG HTML, server-sent events).
type sseReader struct {
	r *bufio.Reader
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{r: bufio.NewReaderSize(r, 32<<10)} }

// next returns the next event that has data, an id or a retry field; comments and
// empty events are skipped. At the end of the stream it returns io.EOF (an event cut
// off by the end is dropped, as the format says).
func (s *sseReader) next() (event, error) {
	var ev event
	var data []byte
	hasData, any := false, false
	size := 0
	for {
		line, err := s.readLine(&size)
		if err != nil {
			return event{}, err
		}
		if len(line) == 0 {
			if any {
				ev.data = data
				return ev, nil
			}
			size = 0
			continue
		}
		if line[0] == ':' {
			continue // comment, e.g. keep-alive
		}
		field, value, found := bytes.Cut(line, []byte{':'})
		if found && len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(field) {
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			data = append(data, value...)
			hasData, any = true, true
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				ev.id, ev.hasID, any = string(value), true, true
			}
		case "retry":
			if ms, err := strconv.ParseUint(string(value), 10, 31); err == nil {
				ev.retry, ev.hasRetry, any = time.Duration(ms)*time.Millisecond, true, true
			}
		}
	}
}

// readLine returns one line without its terminator (LF, CRLF or a lone CR before LF).
func (s *sseReader) readLine(size *int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		*size += len(chunk)
		if *size > maxEventSize {
			return nil, errEventTooLarge
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			line = append(line, chunk...)
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(line)+len(chunk) > 0 {
				// A last line without its terminator cannot complete an event.
				return nil, io.EOF
			}
			return nil, err
		}
		if line == nil {
			line = chunk
		} else {
			line = append(line, chunk...)
		}
		line = line[:len(line)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		return line, nil
	}
}
