package pgdb_test

import (
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
