// Package meshtls is transport security between the processes of the mesh: TLS and
// mutual TLS for every gRPC server and client, certificates and trust anchors read
// from files and reloaded when the files change (no restart), and allow-lists of the
// peer identities (URI SANs such as spiffe://…, or DNS SANs) that may call each
// service.
//
// Files are checked on every handshake with a stat (size and modification time), so a
// rotated certificate is used by the next connection, whatever tool wrote it
// (cert-manager, a SPIFFE helper, a mounted Kubernetes secret). A file that fails to
// load keeps the last good one in use and is logged.
package meshtls
