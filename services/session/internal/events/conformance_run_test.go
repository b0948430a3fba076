package events

import "testing"

func TestConformance(t *testing.T) {
	runConformance(t, []implementation{memoryImplementation, postgresImplementation})
}
