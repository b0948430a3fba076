package session

import "errors"

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
	return errs
}
