package session

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcpmesh/mcpmesh/services/session/internal/dispatch"
	"github.com/mcpmesh/mcpmesh/services/session/internal/events"
	"github.com/mcpmesh/mcpmesh/services/session/internal/tasks"
)

// newTaskStore keeps task records in PostgreSQL when there is a database (any replica
// finds a task), in memory otherwise.
func newTaskStore(db *pgxpool.Pool) tasks.Store {
	if db != nil {
		return tasks.NewPostgres(db, time.Now)
	}
	return tasks.NewMemory(time.Now)
}

// useTasks enables MCP tasks on the dispatcher: a task's status changes and progress
// go to its session's GET stream through the event store.
func (s *Service) useTasks(st tasks.Store) {
	s.tasks = st
	s.dispatcher.UseTasks(st, dispatch.TaskSettings{
		Timeout:      s.cfg.TaskTimeout,
		DefaultTTL:   s.cfg.TaskTTL,
		MaxTTL:       s.cfg.TaskMaxTTL,
		PollInterval: s.cfg.TaskPollInterval,
	}, func(ctx context.Context, sessionID, method string, params []byte) {
		if err := s.events.Append(ctx, sessionID, events.Draft{Method: method, Params: params}); err != nil && ctx.Err() == nil {
			s.logger.WarnContext(ctx, "queue a task notification", "session_id", sessionID, "method", method, "error", err)
		}
	})
}

// sweepTasks removes expired task records (one sweep tick).
func (s *Service) sweepTasks(ctx context.Context) {
	n, err := s.tasks.Sweep(ctx)
	if err != nil && ctx.Err() == nil {
		s.logger.WarnContext(ctx, "sweep expired tasks", "error", err)
	}
	if n > 0 {
		s.logger.DebugContext(ctx, "swept expired tasks", "count", n)
	}
}
