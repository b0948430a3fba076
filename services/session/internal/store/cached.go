package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ChangedChannel is the PostgreSQL notification channel on which replicas announce
// that a session record changed or ended (the payload is the session id), so that
// other replicas drop their cached copy.
const ChangedChannel = "mcpmesh_session_changed"

// Cached keeps recently read sessions of a shared store for a short time, so that a
// busy session costs no database read per request. A change or the end of a session is
// announced on ChangedChannel by the store itself (WithChangeNotify), in the statement
// that makes it; every replica drops its copy when it hears the announcement
// (Invalidate), or after the TTL at the latest.
//
// The fence makes a session's own writes visible to its next request on any replica
// (read-your-writes), without a database read on the hot path. PostgreSQL delivers the
// notifications of one listening connection in commit order, so a replica that has
// heard a notification it sent itself at time T has also heard every change committed
// before T. Each replica therefore keeps announcing itself on its own channel (a
// heartbeat, only while its cache is in use) and serves a cached copy only while the
// latest heartbeat it heard was sent less than freshFor ago; a change waits the whole
// fence after it committed before it is answered. The client's next request arrives
// after that answer, so any replica serving it from its cache has heard a heartbeat
// sent after the change committed, and with it the change's announcement. A replica
// whose listener is slow, blocked or down stops hearing heartbeats and reads the store
// instead. Only durations on each replica's own monotonic clock are compared, so the
// replicas' clocks need not agree.
type Cached struct {
	inner   Store
	ttl     time.Duration
	max     int
	now     func() time.Time
	idle    time.Duration
	onError func(error)
	seed    maphash.Seed
	shards  [shardCount]cacheShard

	// fence is how long a change waits before it is answered (0: no fence, no
	// heartbeats). freshFor is how recent the latest heartbeat heard must be for the
	// cache to be served; beatEvery is how often heartbeats are sent while it is used.
	fence, freshFor, beatEvery time.Duration
	db                         *pgxpool.Pool
	aliveChannel               string
	// base is the origin of the monotonic times below (nanoseconds since base).
	base time.Time
	// heard is the send time of the latest heartbeat the listener delivered; sent is
	// the send time of the latest heartbeat started; sending is true while one is in
	// flight.
	heard, sent atomic.Int64
	sending     atomic.Bool
}

type cacheShard struct {
	mu      sync.Mutex
	entries map[string]cacheEntry
	// epoch counts invalidations in the shard: a read of the store that began before
	// one must not cache what it read (it may be older than the change announced).
	epoch uint64
}

type cacheEntry struct {
	session Session
	until   time.Time
}

var _ Store = (*Cached)(nil)

// CacheOptions configure a Cached.
type CacheOptions struct {
	// TTL is how long a copy is kept at most.
	TTL time.Duration
	// MaxEntries bounds the copies kept (the whole shard is dropped when one
	// overflows: simple, and bounded).
	MaxEntries int
	// Idle is the session idle timeout, so that a copy that looks expired is read again.
	Idle time.Duration
	// Now is the clock of expiry (nil: time.Now).
	Now func() time.Time
	// Fence is how long a change waits before it is answered, so that every replica's
	// cache has heard of it (see Cached); 0 turns the fence and the heartbeats off, and
	// another replica may then serve its old copy until the announcement arrives.
	Fence time.Duration
	// DB sends the heartbeats on AliveChannel, which this replica's listener must
	// deliver to Heard. Both are required with a Fence.
	DB           *pgxpool.Pool
	AliveChannel string
	// OnError hears failed heartbeats (nil: ignored).
	OnError func(error)
}

// NewCached caches inner's sessions as o says.
func NewCached(inner Store, o CacheOptions) *Cached {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OnError == nil {
		o.OnError = func(error) {}
	}
	if o.DB == nil || o.AliveChannel == "" {
		o.Fence = 0
	}
	c := &Cached{inner: inner, ttl: o.TTL, max: max(o.MaxEntries/shardCount, 1), now: o.Now, idle: o.Idle,
		onError: o.OnError, seed: maphash.MakeSeed(), fence: max(o.Fence, 0), db: o.DB, aliveChannel: o.AliveChannel,
		base: time.Now()}
	// A tenth of the fence covers the drift between two replicas' clock rates (and
	// more); three heartbeats per freshness window keep it fresh while notifications
	// take less than two thirds of it.
	c.freshFor = c.fence - c.fence/10
	c.beatEvery = c.freshFor / 3
	c.heard.Store(math.MinInt64 / 2)
	c.sent.Store(math.MinInt64 / 2)
	for i := range c.shards {
		c.shards[i].entries = map[string]cacheEntry{}
	}
	return c
}

// AliveChannelName returns a notification channel name of its own for one replica's
// heartbeats.
func AliveChannelName() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "mcpmesh_session_alive_" + hex.EncodeToString(b[:])
}

func (c *Cached) shard(id string) *cacheShard {
	return &c.shards[maphash.String(c.seed, id)%shardCount]
}

// Invalidate drops the cached copy of a session (another replica changed it). A nil
// cache has nothing to drop.
func (c *Cached) Invalidate(id string) {
	if c == nil {
		return
	}
	sh := c.shard(id)
	sh.mu.Lock()
	delete(sh.entries, id)
	sh.epoch++
	sh.mu.Unlock()
}

// InvalidateAll drops every cached copy (after notifications may have been missed).
func (c *Cached) InvalidateAll() {
	if c == nil {
		return
	}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		clear(sh.entries)
		sh.epoch++
		sh.mu.Unlock()
	}
}

// Heard records a heartbeat this replica's listener delivered (the payload is its
// send time): every notification committed before it has been delivered too.
func (c *Cached) Heard(payload string) {
	at, err := strconv.ParseInt(payload, 10, 64)
	if err != nil {
		return
	}
	for {
		old := c.heard.Load()
		if at <= old || c.heard.CompareAndSwap(old, at) {
			return
		}
	}
}

// Len counts cached sessions.
func (c *Cached) Len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.entries)
		sh.mu.Unlock()
	}
	return n
}

// current reports whether cached copies may be served: always without a fence, else
// while the latest heartbeat heard is recent enough. It starts the next heartbeat
// when one is due, so heartbeats flow only while the cache is used.
func (c *Cached) current() bool {
	if c.fence <= 0 {
		return true
	}
	at := int64(time.Since(c.base))
	if at-c.sent.Load() >= int64(c.beatEvery) && c.sending.CompareAndSwap(false, true) {
		c.sent.Store(at)
		go c.beat(at)
	}
	return at-c.heard.Load() <= int64(c.freshFor)
}

// beat sends one heartbeat stamped at (taken before it is sent, so it is older than
// its commit). A heartbeat later than freshFor is worth nothing: that bounds its wait.
func (c *Cached) beat(at int64) {
	defer c.sending.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), c.freshFor)
	defer cancel()
	if _, err := c.db.Exec(ctx, `SELECT pg_notify($1, $2)`, c.aliveChannel, strconv.FormatInt(at, 10)); err != nil {
		c.onError(fmt.Errorf("session cache heartbeat: %w", err))
	}
}

// put caches s unless an invalidation of its shard happened since epoch, when the
// read of s began.
func (c *Cached) put(s Session, epoch uint64) {
	sh := c.shard(s.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.epoch != epoch {
		return
	}
	if len(sh.entries) >= c.max {
		clear(sh.entries)
	}
	sh.entries[s.ID] = cacheEntry{session: s, until: c.now().Add(c.ttl)}
}

// Get returns a fresh cached copy, or reads the store and caches the result.
func (c *Cached) Get(ctx context.Context, id string) (Session, error) {
	now := c.now()
	current := c.current()
	sh := c.shard(id)
	sh.mu.Lock()
	e, ok := sh.entries[id]
	epoch := sh.epoch
	sh.mu.Unlock()
	// A copy that looks expired may have been touched by another replica: read it.
	if ok && current && now.Before(e.until) && (c.idle <= 0 || now.UnixMilli()-e.session.LastSeenUnixMs <= c.idle.Milliseconds()) {
		return e.session, nil
	}
	s, err := c.inner.Get(ctx, id)
	if err != nil {
		c.Invalidate(id)
		return Session{}, err
	}
	c.put(s, epoch)
	return s, nil
}

// Touch records activity and moves the cached copy's last-seen time with it.
func (c *Cached) Touch(ctx context.Context, id string, now time.Time) error {
	if err := c.inner.Touch(ctx, id, now); err != nil {
		c.Invalidate(id)
		return err
	}
	sh := c.shard(id)
	sh.mu.Lock()
	if e, ok := sh.entries[id]; ok && now.UnixMilli() > e.session.LastSeenUnixMs {
		e.session.LastSeenUnixMs = now.UnixMilli()
		sh.entries[id] = e
	}
	sh.mu.Unlock()
	return nil
}

// changed drops the local copy after a write (the store announced it to the other
// replicas).
func (c *Cached) changed(id string, err error) error {
	c.Invalidate(id)
	return err
}

// fenced is changed, then waits the fence after a successful write, so that the answer
// reaches the client only when no replica serves an older copy any more.
func (c *Cached) fenced(ctx context.Context, id string, err error) error {
	if c.changed(id, err) != nil || c.fence <= 0 {
		return err
	}
	t := time.NewTimer(c.fence)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		// Nobody waits for the answer any more.
	}
	return nil
}

// Create stores a new session (nobody can have a copy of it yet).
func (c *Cached) Create(ctx context.Context, s Session) error { return c.inner.Create(ctx, s) }

// SetLogLevel changes the record: every replica's copy is dropped, behind the fence
// (the session's next calls must run at the new level wherever they go).
func (c *Cached) SetLogLevel(ctx context.Context, id, level string) error {
	return c.fenced(ctx, id, c.inner.SetLogLevel(ctx, id, level))
}

// MarkInitialized changes the record: every replica's copy is dropped. Not fenced: no
// request depends on the flag (it is only shown by GetSession), and every session
// sends the notification once at its start, which the fence would slow down.
func (c *Cached) MarkInitialized(ctx context.Context, id string) error {
	return c.changed(id, c.inner.MarkInitialized(ctx, id))
}

// Delete ends the session: every replica's copy is dropped, behind the fence (a
// request after the DELETE is answered must find the session gone on any replica).
func (c *Cached) Delete(ctx context.Context, id string) error {
	return c.fenced(ctx, id, c.inner.Delete(ctx, id))
}

// Subscribe is not part of the cached record.
func (c *Cached) Subscribe(ctx context.Context, id, uri string) error {
	return c.inner.Subscribe(ctx, id, uri)
}

// Unsubscribe is not part of the cached record.
func (c *Cached) Unsubscribe(ctx context.Context, id, uri string) error {
	return c.inner.Unsubscribe(ctx, id, uri)
}

// Subscribers reads the store.
func (c *Cached) Subscribers(ctx context.Context, uri string) ([]string, error) {
	return c.inner.Subscribers(ctx, uri)
}

// SweepExpired sweeps the store; cached copies of swept sessions expire by
// themselves (a copy that looks expired is never served).
func (c *Cached) SweepExpired(ctx context.Context, now time.Time) (int, error) {
	return c.inner.SweepExpired(ctx, now)
}

// CountLive counts in the store (copies are not sessions of their own).
func (c *Cached) CountLive(ctx context.Context) (int64, error) { return c.inner.CountLive(ctx) }
