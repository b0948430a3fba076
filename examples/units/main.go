// Command units is a provider of unit conversions for mcpmesh. It registers with the
// mesh's registry at MCPMESH_PEERS_REGISTRY (for make run's mesh, 127.0.0.1:9090) and serves
// until interrupted; clients call convert_length and convert_temperature (the mesh
// prefixes them with "units." only when another provider offers the same name).
package main

import "github.com/mcpmesh/mcpmesh/sdk/provider"

func main() { provider.Main(newProvider) }
