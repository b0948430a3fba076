// Package kit is what every mcpmesh service shares: configuration loading, logging,
// gRPC server and client setup (including in-process connections for -target=all)
// and graceful shutdown. Its sub-packages import nothing from the services.
package kit
