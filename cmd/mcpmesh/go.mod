module github.com/mcpmesh/mcpmesh/cmd/mcpmesh

go 1.26.0
