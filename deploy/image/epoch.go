package image

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// SourceDateEpoch is the time SOURCE_DATE_EPOCH (reproducible-builds.org) names, in
// seconds since 1970, or the epoch itself when it is unset: every timestamp of an image
// or SBOM comes from it, never from the clock, so that a rebuild is byte-identical.
func SourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
	}
	return time.Unix(sec, 0).UTC(), nil
}
