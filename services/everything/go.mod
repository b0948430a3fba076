module github.com/mcpmesh/mcpmesh/services/everything

go 1.26.0
