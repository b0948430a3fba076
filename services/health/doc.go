// Package health answers "is the mesh healthy?". A checker goroutine polls every
// configured service's grpc.health.v1 (or a gateway's /healthz) and every provider the
// registry lists, builds one immutable mcpmesh.health.v1.CheckResponse per round, and
// serves the latest one through Check, Watch and Latest.
//
// Aggregation: any service not serving makes the mesh NOT_SERVING; otherwise any
// provider not serving (or a failed provider listing) makes it DEGRADED; otherwise it is
// SERVING.
package health
