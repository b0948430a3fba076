module github.com/mcpmesh/mcpmesh/services/gateway

go 1.26.0
