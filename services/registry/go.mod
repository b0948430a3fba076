module github.com/mcpmesh/mcpmesh/services/registry

go 1.26.0
