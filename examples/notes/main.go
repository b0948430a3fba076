// Command notes is a notebook provider for mcpmesh. It registers with the
// mesh's registry at MCPMESH_PEERS_REGISTRY (for make run's mesh, 127.0.0.1:9090) and serves
// until interrupted; clients read notes://index and notes://{id}
// and call add_note, delete_note and the prompt summarize.
package main

import "github.com/mcpmesh/mcpmesh/sdk/provider"

func main() { provider.Main(newProvider) }
