// Package e2e holds the end-to-end tests of mcpmesh: they build the binary, start it
// as one process (-target=all) and as six (gateway, transport, session, registry,
// health and the everything provider), and drive it with the official Go MCP SDK
// client and with raw HTTP. Every server message is validated against the official
// JSON Schema of its protocol version.
//
// With PostgreSQL (see services/kit/pgtest) they also run two replicas of every service
// behind a round-robin balancer, SIGKILL replicas under load (faults_test.go, and behind
// HAProxy failover_test.go), upgrade from the previous release and roll back under load
// (upgrade_test.go; the release is pinned in previousrelease_test.go), restart
// PostgreSQL under load (dbrestart_test.go), and run the backup-and-restore drill of
// docs/operations/backup-and-restore.md (drdrill_test.go, make dr-drill).
package e2e
