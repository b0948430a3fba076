package session

import (
	"errors"
	"fmt"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
)

// Config is the session service's configuration (section "session").
type Config struct {
	// ToolCallTimeout bounds every provider call (tools/call, resources/read,
	// prompts/get, completion/complete), so no request hangs.
	ToolCallTimeout time.Duration `koanf:"tool_call_timeout"`
	// SessionIdleTimeout ends sessions without activity for this long.
	SessionIdleTimeout time.Duration `koanf:"session_idle_timeout"`
	// SweepInterval is how often expired sessions are removed from the store.
	SweepInterval time.Duration `koanf:"sweep_interval"`
	// PageSize is the number of entries per page of tools/list and friends, and the
	// most a REST listing (GET /v1/tools and siblings) gives per page.
	PageSize int `koanf:"page_size"`
	// CacheTTL is the ttlMs hint on cacheable results of the stateless generation.
	CacheTTL time.Duration `koanf:"cache_ttl"`
	// RequestStateKey signs the requestState of 2026-07-28 input_required results
	// (HMAC-SHA256), so clients cannot alter it. Every replica must share it. Empty
	// means a random key per process: a retry must then reach the same process.
	RequestStateKey string `koanf:"request_state_key"`
	// RequestStateKeyFile reads RequestStateKey from a file instead (a mounted secret).
	RequestStateKeyFile string `koanf:"request_state_key_file"`
	// RequestStatePreviousKey (or ..._file) still verifies requestStates signed before
	// a key rotation: set the old key here and a new RequestStateKey, on every
	// replica, and drop it after RequestStateTTL.
	RequestStatePreviousKey     string `koanf:"request_state_previous_key"`
	RequestStatePreviousKeyFile string `koanf:"request_state_previous_key_file"`
	// RequestStateTTL is how long a requestState stays valid.
	RequestStateTTL time.Duration `koanf:"request_state_ttl"`
	// EventsPerSession is how many server-initiated events (resources/updated,
	// list_changed) of one session the event store keeps for Last-Event-ID replay.
	EventsPerSession int `koanf:"events_per_session"`
	// EventRetention is how long the event store keeps an event for replay.
	EventRetention time.Duration `koanf:"event_retention"`
	// NotifyPollInterval bounds how late a message between replicas can be when a
	// PostgreSQL notification is lost (they are not durable): every interval each
	// replica re-checks its open streams and waiting requests. Only with a database.
	NotifyPollInterval time.Duration `koanf:"notify_poll_interval"`
	// TaskTimeout bounds the provider call of a tool run as an MCP task (tasks run
	// detached from the request that created them, so tool_call_timeout does not apply).
	TaskTimeout time.Duration `koanf:"task_timeout"`
	// TaskTTL is how long a task's record (status and result) is kept after creation
	// when the client asks for no ttl; TaskMaxTTL caps the ttl a client may ask for.
	TaskTTL    time.Duration `koanf:"task_ttl"`
	TaskMaxTTL time.Duration `koanf:"task_max_ttl"`
	// TaskPollInterval is the polling interval suggested to clients in task records.
	TaskPollInterval time.Duration `koanf:"task_poll_interval"`
	// TaskMaxPerSession bounds the unfinished tasks of one stateful session (counted in
	// the task store, so across replicas); TaskMaxRunning bounds the tasks one replica
	// runs at once (every generation: stateless tasks belong to no session).
	TaskMaxPerSession int `koanf:"task_max_per_session"`
	// TaskMaxPerPrincipal bounds the unfinished tasks of one authenticated principal in
	// every session and stateless (the anonymous principal of auth.mode none has none).
	TaskMaxPerPrincipal int `koanf:"task_max_per_principal"`
	TaskMaxRunning      int `koanf:"task_max_running"`
	// ReadCacheTTL is how long a replica keeps a session record it read from
	// PostgreSQL (0 turns the cache off). Changes are announced between replicas, so
	// this only bounds staleness while a notification is lost.
	ReadCacheTTL time.Duration `koanf:"read_cache_ttl"`
	// ReadCacheFence is how long a logging/setLevel or a DELETE waits before it is
	// answered, so that the session's next request sees it on every replica; a replica
	// serves cached records only while its notifications arrive within this bound
	// (store.Cached). 0 turns it off: another replica may then serve its old copy until
	// the change's notification arrives.
	ReadCacheFence time.Duration `koanf:"read_cache_fence"`
	// Breaker stops calling a provider that keeps failing to answer (see
	// internal/backend/breaker.go).
	Breaker breaker.Settings `koanf:"breaker"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		ToolCallTimeout:     60 * time.Second,
		SessionIdleTimeout:  30 * time.Minute,
		SweepInterval:       30 * time.Second,
		PageSize:            100,
		CacheTTL:            60 * time.Second,
		RequestStateTTL:     10 * time.Minute,
		EventsPerSession:    256,
		EventRetention:      15 * time.Minute,
		NotifyPollInterval:  2 * time.Second,
		TaskTimeout:         time.Hour,
		TaskTTL:             time.Hour,
		TaskMaxTTL:          24 * time.Hour,
		TaskPollInterval:    time.Second,
		TaskMaxPerSession:   32,
		TaskMaxPerPrincipal: 128,
		TaskMaxRunning:      1000,
		ReadCacheTTL:        time.Second,
		ReadCacheFence:      100 * time.Millisecond,
		Breaker:             breaker.DefaultSettings(),
	}
}

// minRequestStateKey is the shortest accepted signing key (256 bits, as HMAC-SHA256
// wants).
const minRequestStateKey = 32

// maxPageSize keeps a single page (and the response holding it) bounded.
const maxPageSize = 10000

// Validate reports every problem at once, each naming its key.
func (c Config) Validate() error {
	var errs []error
	if c.ToolCallTimeout <= 0 {
		errs = append(errs, errors.New("session.tool_call_timeout: must be > 0"))
	}
	if c.SessionIdleTimeout <= 0 {
		errs = append(errs, errors.New("session.session_idle_timeout: must be > 0"))
	}
	if c.SweepInterval <= 0 {
		errs = append(errs, errors.New("session.sweep_interval: must be > 0"))
	}
	if c.PageSize <= 0 || c.PageSize > maxPageSize {
		errs = append(errs, errors.New("session.page_size: must be between 1 and 10000"))
	}
	if c.CacheTTL < 0 {
		errs = append(errs, errors.New("session.cache_ttl: must be >= 0"))
	}
	if c.RequestStateKey != "" && len(c.RequestStateKey) < minRequestStateKey {
		errs = append(errs, errors.New("session.request_state_key: must be at least 32 bytes when set"))
	}
	if c.RequestStateKey != "" && c.RequestStateKeyFile != "" {
		errs = append(errs, errors.New("session.request_state_key and session.request_state_key_file: set one, not both"))
	}
	if c.RequestStatePreviousKey != "" && c.RequestStatePreviousKeyFile != "" {
		errs = append(errs, errors.New("session.request_state_previous_key and session.request_state_previous_key_file: set one, not both"))
	}
	if c.RequestStateTTL <= 0 {
		errs = append(errs, errors.New("session.request_state_ttl: must be > 0"))
	}
	if c.EventsPerSession <= 0 || c.EventsPerSession > maxEventsPerSession {
		errs = append(errs, errors.New("session.events_per_session: must be between 1 and 100000"))
	}
	if c.EventRetention <= 0 {
		errs = append(errs, errors.New("session.event_retention: must be > 0"))
	}
	if err := c.Breaker.ValidateAt("session.breaker"); err != nil {
		errs = append(errs, err)
	}
	if c.ReadCacheTTL < 0 {
		errs = append(errs, errors.New("session.read_cache_ttl: must be >= 0"))
	}
	if c.ReadCacheFence < 0 || c.ReadCacheFence > maxReadCacheFence {
		errs = append(errs, fmt.Errorf("session.read_cache_fence: must be between 0s and %s", maxReadCacheFence))
	}
	if c.NotifyPollInterval <= 0 {
		errs = append(errs, errors.New("session.notify_poll_interval: must be > 0"))
	}
	errs = append(errs, c.validateTasks()...)
	return errors.Join(errs...)
}

// maxReadCacheFence bounds the wait of a fenced write: past it, turning the cache off
// costs less than the wait.
const maxReadCacheFence = 5 * time.Second

// maxEventsPerSession keeps one session's replay buffer bounded.
const maxEventsPerSession = 100000

// validateTasks checks the task keys of Config.
func (c Config) validateTasks() []error {
	var errs []error
	if c.TaskTimeout <= 0 {
		errs = append(errs, errors.New("session.task_timeout: must be > 0"))
	}
	if c.TaskTTL <= 0 {
		errs = append(errs, errors.New("session.task_ttl: must be > 0"))
	}
	if c.TaskMaxTTL < c.TaskTTL {
		errs = append(errs, errors.New("session.task_max_ttl: must be >= session.task_ttl"))
	}
	if c.TaskPollInterval <= 0 {
		errs = append(errs, errors.New("session.task_poll_interval: must be > 0"))
	}
	if c.TaskMaxPerSession <= 0 {
		errs = append(errs, errors.New("session.task_max_per_session: must be > 0"))
	}
	if c.TaskMaxPerPrincipal <= 0 {
		errs = append(errs, errors.New("session.task_max_per_principal: must be > 0"))
	}
	if c.TaskMaxRunning <= 0 {
		errs = append(errs, errors.New("session.task_max_running: must be > 0"))
	}
	return errs
}
