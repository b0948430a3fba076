// Package pgnotify carries PostgreSQL LISTEN/NOTIFY notifications to a replica's
// in-process handlers: one dedicated connection per replica (outside the pool, so it
// holds no pool slot) listens on the channels given to New and passes each
// notification's payload to its channel's handler.
//
// NOTIFY is not durable: notifications sent while the connection is down are lost,
// and a notification can be lost in other ways too. So after every (re)connect, and
// every poll interval (connected or not), the Listener calls OnResync, with which the
// callers re-check whatever they wait for. A lost notification then delays delivery
// by at most one poll interval, even while this connection is down.
package pgnotify
