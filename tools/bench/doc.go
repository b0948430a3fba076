// Package bench is the load generator of `make bench` (tools/cmd/mcpmesh-bench), kept
// out of the server binary. It measures the mesh against a
// ceiling: a bare net/http server in its own process (`mcpmesh-bench ceiling`) that
// answers every POST with a fixed JSON-RPC result. Every layout's throughput is reported
// as a ratio to that ceiling, together with latency percentiles, errors and the CPU that
// the server processes and the generator spend per request, read from /proc. A separate
// run measures the resident memory of idle stateful sessions.
//
// The layouts all-pg (-target=all) and replicas-pg (two replicas each of registry,
// session, transport and gateway behind a round-robin balancer in the bench process)
// keep their state in PostgreSQL: -database-url, or a throwaway cluster that the bench
// starts from the local PostgreSQL binaries (pgtest.StartCluster), migrates and removes.
// The CPU of that cluster is reported as database CPU.
//
// The generator shares the machine with the server, so it is written to be cheap: one
// shared http.Transport, one request in flight per session, per-worker histograms and
// buffers, and no locks on the request path.
package bench
