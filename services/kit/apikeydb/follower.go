package apikeydb

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/kit/apikey"
	"github.com/mcpmesh/mcpmesh/services/kit/pgnotify"
)

// FollowerSettings configure a Follower.
type FollowerSettings struct {
	// MaxStaleness bounds how old the records a key is checked against may be: a
	// replica that has not read the table for this long (the database is unreachable)
	// refuses every key until it has, rather than honour one revoked meanwhile. It is
	// the bound on how late a revocation takes effect on any replica.
	MaxStaleness time.Duration
	// LastUsedInterval is how often last uses are written.
	LastUsedInterval time.Duration
	Logger           *slog.Logger
}

// Follower keeps one replica's copy of a PGStore's records. It re-reads the table when
// a change is notified on NotifyChannel (sent in the writer's transaction, so a
// revocation reaches every listening replica within a round trip), after its listen
// connection (re)connects, and every poll interval (a third of MaxStaleness, at most
// 2s) whatever happens, so that a lost notification or a half-open listen connection
// delays a change by one poll interval only, and the age of the copy is always known.
type Follower struct {
	store *PGStore
	pool  *pgxpool.Pool
	s     FollowerSettings
	poll  time.Duration

	current atomic.Pointer[followed]
	reload  chan struct{}

	usedMu sync.Mutex
	used   map[string]time.Time
}

// followed is a snapshot and when the read that made it began.
type followed struct {
	snap   apikey.Snapshot
	readAt time.Time
}

// maxPoll caps the poll interval.
const maxPoll = 2 * time.Second

// NewFollower returns a Follower of the api_keys table in pool's database. Nothing
// is read until Run.
func NewFollower(pool *pgxpool.Pool, s FollowerSettings) (*Follower, error) {
	if s.MaxStaleness <= 0 || s.LastUsedInterval <= 0 {
		return nil, fmt.Errorf("API key follower: staleness bound %v and last-use interval %v must be > 0", s.MaxStaleness, s.LastUsedInterval)
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return &Follower{
		store:  NewPGStore(pool),
		pool:   pool,
		s:      s,
		poll:   min(maxPoll, s.MaxStaleness/3),
		reload: make(chan struct{}, 1),
		used:   map[string]time.Time{},
	}, nil
}

// Current implements apikey.Source.
func (f *Follower) Current(now time.Time) (apikey.Snapshot, error) {
	c := f.current.Load()
	switch {
	case c == nil:
		return apikey.Snapshot{}, fmt.Errorf("%w: not read yet", apikey.ErrStale)
	case now.Sub(c.readAt) > f.s.MaxStaleness:
		return apikey.Snapshot{}, fmt.Errorf("%w: last read %s ago (bound %s)", apikey.ErrStale, now.Sub(c.readAt).Round(time.Millisecond), f.s.MaxStaleness)
	}
	return c.snap, nil
}

// Used implements apikey.Source; Run writes the uses out every LastUsedInterval.
func (f *Follower) Used(hash string, at time.Time) {
	f.usedMu.Lock()
	if at.After(f.used[hash]) {
		f.used[hash] = at
	}
	f.usedMu.Unlock()
}

// requestReload asks Run to re-read the table soon; requests coalesce. It never blocks
// (it runs on the listener's goroutine).
func (f *Follower) requestReload() {
	select {
	case f.reload <- struct{}{}:
	default:
	}
}

// Run follows the table until ctx ends, then writes the last uses it holds.
func (f *Follower) Run(ctx context.Context) {
	listener := pgnotify.NewFromPool(f.pool, pgnotify.Settings{
		Handlers:        map[string]pgnotify.Handler{NotifyChannel: func(string) { f.requestReload() }},
		OnResync:        f.requestReload,
		PollInterval:    f.poll,
		ApplicationName: "mcpmesh-apikeys",
		Logger:          f.s.Logger,
	})
	var wg sync.WaitGroup
	wg.Go(func() { listener.Run(ctx) })
	f.requestReload()
	flush := time.NewTicker(f.s.LastUsedInterval)
	defer flush.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			finalCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			f.flushUsed(finalCtx)
			cancel()
			return
		case <-f.reload:
			err := f.read(ctx)
			switch {
			case err != nil && !failing && ctx.Err() == nil:
				f.s.Logger.WarnContext(ctx, "cannot read the API keys; API keys are refused once the last read is older than the staleness bound",
					"max_staleness", f.s.MaxStaleness, "error", err)
			case err == nil && failing:
				f.s.Logger.InfoContext(ctx, "API keys read again")
			}
			failing = err != nil
		case <-flush.C:
			f.flushUsed(ctx)
		}
	}
}

// read re-reads the table; the copy is as old as the moment the read began (a change
// committed before then is in it).
func (f *Follower) read(ctx context.Context) error {
	began := time.Now()
	// A read slower than the staleness bound could not give a copy fresh enough anyway.
	ctx, cancel := context.WithTimeout(ctx, f.s.MaxStaleness)
	defer cancel()
	recs, err := f.store.Load(ctx)
	if err != nil {
		return err
	}
	next := &followed{readAt: began, snap: apikey.Snapshot{Generation: 1, Records: recs}}
	if prev := f.current.Load(); prev != nil {
		next.snap.Generation = prev.snap.Generation
		if !apikey.SameKeys(prev.snap.Records, recs) {
			next.snap.Generation++
		}
	}
	f.current.Store(next)
	return nil
}

// flushUsed writes the last uses noted since the previous flush; on failure they are
// kept for the next one.
func (f *Follower) flushUsed(ctx context.Context) {
	f.usedMu.Lock()
	batch := f.used
	f.used = map[string]time.Time{}
	f.usedMu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := f.store.TouchLastUsed(ctx, batch); err != nil {
		f.s.Logger.WarnContext(ctx, "cannot record API key last use; keeping it for the next write", "error", err)
		f.usedMu.Lock()
		for h, t := range batch {
			if t.After(f.used[h]) {
				f.used[h] = t
			}
		}
		f.usedMu.Unlock()
	}
}
