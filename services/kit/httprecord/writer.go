// Package httprecord serves the middleware that measures, logs or traces HTTP
// requests: a wrapped http.ResponseWriter that remembers what a handler wrote (the
// status and the size of the body), and the bounded forms of a request's method,
// scheme and protocol version that metrics and spans label it with.
package httprecord

import (
	"io"
	"net/http"
)

// Writer remembers the first status written (200 once the body or a flush starts
// without one) and counts the body's bytes. It keeps Flush (event streams) and Unwrap
// (http.ResponseController) of the writer it wraps.
type Writer struct {
	http.ResponseWriter
	status int
	bytes  int64
}

// Wrap returns a Writer over w.
func Wrap(w http.ResponseWriter) Writer { return Writer{ResponseWriter: w} }

// Status is the status the handler sent: 200 when it wrote nothing at all, as
// net/http then answers.
func (w *Writer) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Bytes is the size of the body written so far.
func (w *Writer) Bytes() int64 { return w.bytes }

// WriteHeader remembers the first status.
func (w *Writer) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implies 200 when no status was written.
func (w *Writer) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// WriteString keeps io.WriteString free of conversions.
func (w *Writer) WriteString(s string) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.WriteString(w.ResponseWriter, s)
	w.bytes += int64(n)
	return n, err
}

// Flush passes through, for event streams; it sends the headers, so it implies 200.
func (w *Writer) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
