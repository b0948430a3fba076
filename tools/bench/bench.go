package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// options are the flags of `mcpmesh-bench`.
type options struct {
	concurrency   int
	duration      time.Duration
	binary        string
	layouts       []string
	idleSessions  int
	getStreams    int
	warmup        time.Duration
	jsonPath      string
	sixGOMAXPROCS int
	idleGOGC      int
	databaseURL   string
	pin           bool
	authPairs     int
}

// parseOptions parses and checks the flags; every problem is reported at once.
func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("mcpmesh-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.concurrency, "c", 1000, "concurrent sessions, one request in flight each")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "measured duration of each run")
	fs.StringVar(&o.binary, "binary", "bin/mcpmesh", "path to the mcpmesh binary to measure (make build writes bin/mcpmesh)")
	layouts := fs.String("layouts", strings.Join(defaultLayouts, ","), "comma-separated layouts to run: "+strings.Join(knownLayouts, ", ")+
		" (all-pg and replicas-pg keep their state in PostgreSQL)")
	fs.IntVar(&o.idleSessions, "idle-sessions", 10000, "idle sessions for the memory run (0 skips it)")
	fs.IntVar(&o.getStreams, "get-streams", 8000, "sessions with an open GET stream each for the stream-memory run, one connection each (0 skips it)")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "load before each measured window, not counted")
	fs.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to this file")
	fs.IntVar(&o.sixGOMAXPROCS, "six-gomaxprocs", 1, "GOMAXPROCS of each process of the six and replicas-pg layouts (0 leaves it unset)")
	fs.IntVar(&o.idleGOGC, "idle-gogc", 10, "GOGC of the idle-memory server, so that its RSS tracks live memory rather than GC headroom (0 leaves it unset)")
	fs.StringVar(&o.databaseURL, "database-url", "", "PostgreSQL of the all-pg and replicas-pg layouts, migrated before each "+
		"(default: a throwaway cluster from the local PostgreSQL binaries, removed afterwards)")
	fs.BoolVar(&o.pin, "pin", false, "run the servers on CPU 0 (taskset) and the generator on CPU 1, as the targets in docs/performance.md are measured")
	fs.IntVar(&o.authPairs, "auth-pairs", 3, "back-to-back pairs of all and all-auth (the layouts' own, then repeats in alternating order) "+
		"whose median difference judges the authentication target, when both layouts are in -layouts")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %v", fs.Args()))
	}
	for name := range strings.SplitSeq(*layouts, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
		case !slices.Contains(knownLayouts, name):
			errs = append(errs, fmt.Errorf("-layouts: unknown layout %q (want %s)", name, strings.Join(knownLayouts, ", ")))
		case !slices.Contains(o.layouts, name):
			o.layouts = append(o.layouts, name)
		}
	}
	if o.concurrency < 1 {
		errs = append(errs, errors.New("-c: must be >= 1"))
	}
	if o.duration <= 0 {
		errs = append(errs, errors.New("-d: must be > 0"))
	}
	if o.warmup < 0 {
		errs = append(errs, errors.New("-warmup: must be >= 0"))
	}
	if o.idleSessions < 0 {
		errs = append(errs, errors.New("-idle-sessions: must be >= 0"))
	}
	if o.getStreams < 0 {
		errs = append(errs, errors.New("-get-streams: must be >= 0"))
	}
	if o.idleGOGC < 0 {
		errs = append(errs, errors.New("-idle-gogc: must be >= 0"))
	}
	if o.authPairs < 1 {
		errs = append(errs, errors.New("-auth-pairs: must be >= 1"))
	}
	if o.sixGOMAXPROCS < 0 {
		errs = append(errs, errors.New("-six-gomaxprocs: must be >= 0"))
	}
	if len(o.layouts) == 0 && o.idleSessions == 0 && o.getStreams == 0 {
		errs = append(errs, errors.New("nothing to do: no layout, -idle-sessions=0 and -get-streams=0"))
	}
	return o, errors.Join(errs...)
}

// Main runs the bench (`mcpmesh-bench`, `make bench`): each layout in turn under the same load, then the
// idle-memory run, and prints a Markdown report to stdout (progress goes to stderr).
// Every process it starts is stopped before it returns, also when ctx is cancelled.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseOptions(args, stderr)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	// The generator allocates a little per request; a lazier GC keeps its CPU share down.
	defer debug.SetGCPercent(debug.SetGCPercent(400))

	db := newDatabase(opts.databaseURL)
	if _, err := os.Stat(opts.binary); err != nil {
		return fmt.Errorf("bench: -binary: %w (make build writes bin/mcpmesh)", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: the ceiling runs as this executable: %w", err)
	}
	if opts.pin {
		if err := checkPinnable(); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		if err := pinGenerator(); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	st := starter{binary: opts.binary, ceiling: self, sixGOMAXPROCS: opts.sixGOMAXPROCS, db: db, conns: opts.concurrency, progress: stderr, pin: opts.pin}
	rep := report{
		Command:       commandLine(os.Args),
		Concurrency:   opts.concurrency,
		Duration:      opts.duration,
		Warmup:        opts.warmup,
		SixGOMAXPROCS: opts.sixGOMAXPROCS,
		Pinned:        opts.pin,
		Started:       time.Now().UTC(),
	}
	rep.fillEnvironment()
	var errs []error
	defer func() {
		if err := db.close(); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
		}
	}()
	for _, layout := range opts.layouts {
		fmt.Fprintf(stderr, "bench: layout %s: starting\n", layout)
		row, err := benchLayout(ctx, st, layout, opts, stderr)
		rep.Rows = append(rep.Rows, row)
		if err != nil {
			errs = append(errs, err)
			fmt.Fprintf(stderr, "bench: layout %s: %v\n", layout, err)
		}
		if ctx.Err() != nil {
			return errors.Join(append(errs, ctx.Err())...)
		}
	}
	if err := repeatAuthPairs(ctx, st, opts, &rep, stderr); err != nil {
		rep.AuthError = err.Error()
		errs = append(errs, err)
		fmt.Fprintf(stderr, "bench: %v\n", err)
	}
	if ctx.Err() != nil {
		return errors.Join(append(errs, ctx.Err())...)
	}
	// memory runs one memory measurement of count sessions (none when count is 0 or
	// the bench is cancelled): its result and, when it failed, why.
	memory := func(count int, streams bool) (*idleResult, string) {
		if count == 0 || ctx.Err() != nil {
			return nil, ""
		}
		fmt.Fprintf(stderr, "bench: idle memory: starting layout all\n")
		res, err := benchIdle(ctx, st, opts, count, streams, stderr)
		if err != nil {
			errs = append(errs, err)
			fmt.Fprintf(stderr, "bench: idle memory: %v\n", err)
			return &res, err.Error()
		}
		return &res, ""
	}
	rep.Idle, rep.IdleError = memory(opts.idleSessions, false)
	rep.Streams, rep.StreamsError = memory(opts.getStreams, true)
	if ctx.Err() != nil {
		return errors.Join(append(errs, ctx.Err())...)
	}
	if err := rep.writeMarkdown(stdout); err != nil {
		errs = append(errs, err)
	}
	if opts.jsonPath != "" {
		if err := rep.writeJSONFile(opts.jsonPath); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// benchLayout starts one layout, runs the load against it and stops it.
func benchLayout(ctx context.Context, st starter, layout string, opts options, progress io.Writer) (row row, err error) {
	row.Layout = layout
	defer func() {
		if err != nil {
			row.Error = err.Error()
		}
	}()
	srv, err := st.start(ctx, layout)
	if err != nil {
		return row, err
	}
	defer func() { err = errors.Join(err, srv.stop()) }()
	row.Processes = len(srv.processes)
	fmt.Fprintf(progress, "bench: layout %s: %d sessions, %s warmup + %s measured against %s\n",
		layout, opts.concurrency, opts.warmup, opts.duration, srv.endpoint)
	res, err := runLoad(ctx, loadSpec{
		Endpoint:      srv.endpoint,
		Concurrency:   opts.concurrency,
		Warmup:        opts.warmup,
		Duration:      opts.duration,
		Stateful:      srv.stateful,
		Stateless:     srv.stateless,
		ServerPIDs:    srv.pids(),
		DatabasePID:   srv.databasePID,
		Authorization: srv.authorization,
	})
	if exitErr := srv.exited(); exitErr != nil {
		return row, exitErr // whatever else failed followed from this
	}
	if err != nil {
		return row, err
	}
	row.fill(res)
	row.DatabaseMeasured = srv.databasePID != 0
	if srv.lb != nil {
		row.Balanced = make([]int64, len(srv.lb.hits))
		for i := range srv.lb.hits {
			row.Balanced[i] = srv.lb.hits[i].Load()
		}
	}
	return row, nil
}

// benchIdle starts a fresh single-process mesh and measures the memory of sessions
// idle sessions, or with streams of sessions with an open GET stream each.
func benchIdle(ctx context.Context, st starter, opts options, sessions int, streams bool, progress io.Writer) (res idleResult, err error) {
	if opts.idleGOGC > 0 {
		st.allEnv = []string{fmt.Sprintf("GOGC=%d", opts.idleGOGC)}
	}
	srv, err := st.start(ctx, layoutAll)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, srv.stop()) }()
	res, err = measureIdle(ctx, srv, idleSpec{
		Sessions:    sessions,
		Streams:     streams,
		Connections: idleConnections,
		WarmupCalls: idleWarmupCalls,
		Settle:      idleSettle,
		GOGC:        opts.idleGOGC,
	}, progress)
	if exitErr := srv.exited(); exitErr != nil {
		err = errors.Join(err, exitErr)
	}
	return res, err
}

// The idle-memory run opens its sessions over a small pool of shared connections and
// lets the server settle before each RSS reading.
const (
	idleConnections = 32
	idleSettle      = 3 * time.Second
	idleWarmupCalls = 20
)

// commandLine quotes args for a shell where needed.
func commandLine(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?;&|<>()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		quoted[i] = a
	}
	return strings.Join(quoted, " ")
}
