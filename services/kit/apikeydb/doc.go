// Package apikeydb keeps the mesh's API keys in PostgreSQL, for a mesh that runs with a
// database: PGStore reads and writes the api_keys table (created by the session
// service's migrations), and Follower keeps one gateway replica's in-memory copy of it
// current. It is apart from package apikey so that the gateway links PostgreSQL only
// through the mesh that hands it a Follower.
package apikeydb
