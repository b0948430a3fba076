package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// idleSpec describes the idle-memory run.
type idleSpec struct {
	Sessions    int
	Connections int // clients that open the sessions, one connection each
	// WarmupCalls is how many echo calls each connection makes (in a session of its
	// own) before the baseline is read: enough to initialise everything lazy, few
	// enough not to inflate the heap with garbage before the baseline.
	WarmupCalls int
	Settle      time.Duration // pause before each RSS reading
	GOGC        int           // of the server process, for the report (0: inherited)
	// Streams opens each session's GET stream and keeps it open (one connection each)
	// until the run ends: the figures are then per open stream, session included.
	Streams bool
}

// idleResult holds the server's RSS before any idle session, after half of them and
// after all of them, and the two per-session figures derived from it.
type idleResult struct {
	Sessions    int    `json:"sessions"`
	Opened      int    `json:"opened"`
	Failed      int    `json:"failed"`
	Connections int    `json:"connections"`
	GOGC        int    `json:"server_gogc,omitempty"`
	Streams     bool   `json:"get_streams,omitempty"`
	RSSBase     uint64 `json:"rss_base_bytes"`
	RSSHalf     uint64 `json:"rss_half_bytes"`
	RSSFull     uint64 `json:"rss_full_bytes"`
	// PerSessionSlope is (RSSFull-RSSHalf) over the sessions of the second half: it
	// leaves out one-off costs (connection buffers, first map growth) and is the figure
	// bench reports.
	PerSessionSlope float64 `json:"per_session_slope_bytes"`
	// PerSessionOverall is (RSSFull-RSSBase) over every session opened.
	PerSessionOverall float64  `json:"per_session_overall_bytes"`
	FirstErrors       []string `json:"first_errors,omitempty"`
}

// idleOpenTimeout bounds opening all idle sessions; idleHeaderTimeout bounds the wait
// for the answer to each of their requests.
const (
	idleOpenTimeout   = 5 * time.Minute
	idleHeaderTimeout = 30 * time.Second
)

// measureIdle reads the RSS of the single process of srv while idle sessions pile up.
func measureIdle(ctx context.Context, srv *server, spec idleSpec, progress io.Writer) (idleResult, error) {
	if len(srv.processes) != 1 {
		return idleResult{}, errors.New("idle memory: needs a single-process layout")
	}
	pid := srv.processes[0].Pid()
	endpoint, err := url.Parse(srv.endpoint)
	if err != nil {
		return idleResult{}, fmt.Errorf("idle memory: %w", err)
	}
	transport := newTransport(spec.Connections)
	// A server out of file descriptors leaves new connections unanswered in the
	// listen backlog: such a session or stream fails to open instead of hanging the run.
	transport.ResponseHeaderTimeout = idleHeaderTimeout
	defer transport.CloseIdleConnections()
	res := idleResult{Sessions: spec.Sessions, Connections: spec.Connections, GOGC: spec.GOGC, Streams: spec.Streams}
	var streams []io.Closer
	defer func() {
		for _, s := range streams {
			_ = s.Close()
		}
	}()

	fmt.Fprintf(progress, "bench: idle memory: warming up with %d echo calls on each of %d connections\n", spec.WarmupCalls, spec.Connections)
	if err := warmIdle(ctx, transport, endpoint, spec.Connections, spec.WarmupCalls); err != nil {
		return res, fmt.Errorf("idle memory: warmup: %w", err)
	}
	read := func(into *uint64) error {
		sleepUntil(ctx, time.Now().Add(spec.Settle))
		if err := ctx.Err(); err != nil {
			return err
		}
		rss, err := residentBytes(pid)
		*into = rss
		return err
	}
	if err := read(&res.RSSBase); err != nil {
		return res, fmt.Errorf("idle memory: %w", err)
	}
	half := spec.Sessions / 2
	var secondHalf int
	for _, step := range []struct {
		count  int
		into   *uint64
		opened *int
	}{{half, &res.RSSHalf, new(int)}, {spec.Sessions - half, &res.RSSFull, &secondHalf}} {
		what := "sessions"
		if spec.Streams {
			what = "sessions, each with its GET stream"
		}
		fmt.Fprintf(progress, "bench: idle memory: opening %d %s\n", step.count, what)
		opened, open, errs := openIdle(ctx, transport, endpoint, step.count, spec.Connections, spec.Streams)
		streams = append(streams, open...)
		*step.opened = opened
		res.Opened += opened
		res.Failed += len(errs)
		res.FirstErrors = appendDistinct(res.FirstErrors, errs...)
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := read(step.into); err != nil {
			return res, fmt.Errorf("idle memory: %w", err)
		}
	}
	if res.Opened == 0 {
		return res, fmt.Errorf("idle memory: no session opened: %v", res.FirstErrors)
	}
	if secondHalf > 0 {
		res.PerSessionSlope = (float64(res.RSSFull) - float64(res.RSSHalf)) / float64(secondHalf)
	}
	res.PerSessionOverall = (float64(res.RSSFull) - float64(res.RSSBase)) / float64(res.Opened)
	return res, nil
}

// openIdle opens count stateful sessions through workers clients and leaves them idle;
// with streams, each also opens its GET stream, returned open (on ctx, so the streams
// outlive this call). It returns how many opened, the open streams and the errors of
// the others.
func openIdle(ctx context.Context, transport http.RoundTripper, endpoint *url.URL, count, workers int, streams bool) (int, []io.Closer, []error) {
	openCtx, cancel := context.WithTimeout(ctx, idleOpenTimeout)
	defer cancel()
	var next atomic.Int64
	var opened atomic.Int64
	var mu sync.Mutex // errors are rare and streams few per second: off the measured path
	var errs []error
	var open []io.Closer
	var wg sync.WaitGroup
	for range min(workers, count) {
		wg.Go(func() {
			for next.Add(1) <= int64(count) && openCtx.Err() == nil {
				c := newClient(transport, endpoint)
				err := c.initialize(openCtx)
				var stream io.ReadCloser
				if err == nil && streams {
					stream, err = c.openStream(ctx)
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else if stream != nil {
					open = append(open, stream)
				}
				mu.Unlock()
				if err == nil {
					opened.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(opened.Load()), open, errs
}

// warmIdle opens one session per connection and calls echo calls times on each.
func warmIdle(ctx context.Context, transport http.RoundTripper, endpoint *url.URL, connections, calls int) error {
	ctx, cancel := context.WithTimeout(ctx, idleOpenTimeout)
	defer cancel()
	errs := make([]error, connections)
	var wg sync.WaitGroup
	for i := range connections {
		wg.Go(func() {
			c := newClient(transport, endpoint)
			if errs[i] = c.initialize(ctx); errs[i] != nil {
				return
			}
			for range calls {
				if errs[i] = c.callEcho(ctx); errs[i] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
