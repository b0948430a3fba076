module github.com/mcpmesh/mcpmesh/services/health

go 1.26.0
