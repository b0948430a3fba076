module github.com/mcpmesh/mcpmesh/services/session

go 1.26.0
