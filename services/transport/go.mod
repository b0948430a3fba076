module github.com/mcpmesh/mcpmesh/services/transport

go 1.26.0
