package registry

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/mcpmesh/mcpmesh/services/kit/dial"
)

// providerNamePattern keeps provider names usable as prefixes of exposed names: no dots,
// so "<provider>.<tool>" is unambiguous.
var providerNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func validateProviderName(name string) error {
	if !providerNamePattern.MatchString(name) {
		return fmt.Errorf("provider name %q must match %s", name, providerNamePattern)
	}
	return nil
}

// validateAddress accepts "inproc", "inproc:NAME" or host:port.
func validateAddress(addr string) error {
	switch {
	case addr == "":
		return errors.New("address is required")
	case strings.ContainsAny(addr, " \t\r\n"):
		return fmt.Errorf("address %q must not contain spaces", addr)
	case dial.IsInProcess(addr):
		if addr == dial.InProcessScheme+":" {
			return fmt.Errorf("address %q: in-process name is empty", addr)
		}
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return fmt.Errorf("address %q must be host:port, inproc or inproc:NAME", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("address %q: port must be 1-65535", addr)
	}
	return nil
}
