// Package checker runs one health round: it checks every configured service and every
// provider the registry lists, concurrently and under one deadline, and builds the
// ordered, aggregated CheckResponse.
package checker
