// Package breaker guards calls to providers with one circuit breaker per provider
// (github.com/sony/gobreaker/v2), so a provider that keeps failing is given a rest
// instead of every request waiting for its deadline.
//
// A breaker opens after failure_threshold consecutive failures, rejects calls with
// ErrOpen for open_timeout, then lets half_open_max_requests calls through: a success
// closes it, a failure opens it again. The caller decides which errors are failures
// (a provider that answers InvalidArgument is alive; one that is Unavailable is not);
// calls whose context ended (the client left) count neither way, and neither do
// failures of calls that were already in flight when a failure was counted: the calls
// on one connection that broke (a provider replica gone behind a load balancer) count
// as one failure, so only calls made after a failure that fail too open the breaker.
//
// Do guards a call that returns its outcome; Allow, with the done function it returns,
// guards one whose outcome comes later (a server stream's first message).
//
// Breakers are created on a provider's first call and can be dropped with Forget when
// the provider leaves the registry; their number is bounded (Options.MaxProviders).
// Observe reports them as OpenTelemetry metrics.
package breaker
