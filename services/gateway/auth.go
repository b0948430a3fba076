package gateway

import (
	"errors"
	"log/slog"

	"github.com/mcpmesh/mcpmesh/services/gateway/internal/auth"
)

// newAuthenticator builds the authentication of auth.mode.
func newAuthenticator(c AuthConfig, listen string, logger *slog.Logger) (*auth.Authenticator, error) {
	mode, err := auth.ParseMode(c.Mode)
	if err != nil {
		return nil, err
	}
	if !mode.Configured {
		logger.Info("authentication is not configured: every request acts for the anonymous principal, which is allowed on loopback only",
			"listen", listen)
	}
	if !mode.None() {
		return nil, errors.New("auth.mode " + c.Mode + ": not available yet in this build")
	}
	return auth.New(auth.Settings{Mode: mode, Logger: logger})
}
