package grpcsource

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Settings configure one gRPC service exposed as tools (one entry of federation.grpc).
type Settings struct {
	// Name is the provider's name in the mesh.
	Name string `koanf:"name"`
	// Address is the server, host:port (any gRPC target such as dns:///host:port).
	Address string `koanf:"address"`
	// TLS is used unless Plaintext is set: without a CA file the system roots verify
	// the server.
	TLS TLS `koanf:"tls"`
	// Plaintext turns TLS off; it must be set explicitly.
	Plaintext bool `koanf:"plaintext"`
	// Services is the allow-list of full service names; required.
	Services []string `koanf:"services"`
	// Methods narrow Services to these full method names, when set.
	Methods []string `koanf:"methods"`
	// Prefix renames every tool to <prefix>__<Service.Method>; "" keeps the names.
	Prefix string `koanf:"prefix"`
	// DescriptorSetFile, when set, describes the services instead of server reflection.
	DescriptorSetFile string `koanf:"descriptor_set_file"`
	// Metadata is sent with every call (for example a tenant header); credentials are
	// refused here and go in MetadataFiles.
	Metadata map[string]string `koanf:"metadata"`
	// MetadataFiles are sent with every call, each value read from a file at start
	// (for example authorization: /run/secrets/billing-token holding "Bearer …").
	MetadataFiles map[string]string `koanf:"metadata_files"`
	// Timeout bounds every call, within the mesh's own deadline (0: the default).
	Timeout time.Duration `koanf:"timeout"`
	// RefreshInterval is how often the descriptors are read again to notice a change
	// of the service (0: the default); a method answering Unimplemented also triggers
	// a reading.
	RefreshInterval time.Duration `koanf:"refresh_interval"`
	// ReflectionTimeout bounds one reading of the descriptors by reflection.
	ReflectionTimeout time.Duration `koanf:"reflection_timeout"`
	// MaxMessageBytes bounds each request and response message.
	MaxMessageBytes int `koanf:"max_message_bytes"`
	// MaxDescriptorBytes bounds the descriptors read by reflection or from the file.
	MaxDescriptorBytes int `koanf:"max_descriptor_bytes"`
	// MaxStreamMessages bounds the messages a server-streaming tool collects; the
	// stream is cancelled after that many and the result says it was truncated.
	MaxStreamMessages int `koanf:"max_stream_messages"`
	// MaxStreamBytes bounds the JSON a server-streaming tool collects in the same way.
	MaxStreamBytes int `koanf:"max_stream_bytes"`
}

// TLS configures the connection's TLS.
type TLS struct {
	// CAFile verifies the server (PEM); empty: the system roots.
	CAFile string `koanf:"ca_file"`
	// CertFile and KeyFile are the client certificate for mutual TLS (PEM), both or
	// neither.
	CertFile string `koanf:"cert_file"`
	KeyFile  string `koanf:"key_file"`
	// ServerName overrides the name verified in the server's certificate.
	ServerName string `koanf:"server_name"`
}

// Defaults of Settings, applied by WithDefaults to zero fields.
const (
	DefaultTimeout            = 30 * time.Second
	DefaultRefreshInterval    = time.Minute
	DefaultReflectionTimeout  = 10 * time.Second
	DefaultMaxMessageBytes    = 4 << 20
	DefaultMaxDescriptorBytes = 16 << 20
	DefaultMaxStreamMessages  = 1000
	DefaultMaxStreamBytes     = 16 << 20
)

// WithDefaults fills every zero duration and limit with its default (an entry of a
// list has no koanf defaults of its own).
func (s Settings) WithDefaults() Settings {
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.RefreshInterval == 0 {
		s.RefreshInterval = DefaultRefreshInterval
	}
	if s.ReflectionTimeout == 0 {
		s.ReflectionTimeout = DefaultReflectionTimeout
	}
	if s.MaxMessageBytes == 0 {
		s.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if s.MaxDescriptorBytes == 0 {
		s.MaxDescriptorBytes = DefaultMaxDescriptorBytes
	}
	if s.MaxStreamMessages == 0 {
		s.MaxStreamMessages = DefaultMaxStreamMessages
	}
	if s.MaxStreamBytes == 0 {
		s.MaxStreamBytes = DefaultMaxStreamBytes
	}
	return s
}

var (
	// namePattern is the registry's rule for provider names.
	namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	// metadataKeyPattern is what gRPC accepts as an ASCII metadata key.
	metadataKeyPattern = regexp.MustCompile(`^[a-z0-9_.-]+$`)
	// fullNamePattern is a protobuf full name.
	fullNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$`)
)

// Validate reports every problem at once; prefix names the entry in messages
// ("federation.grpc[0]").
func (s Settings) Validate(prefix string) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", prefix, key, fmt.Sprintf(format, args...)))
	}
	if !namePattern.MatchString(s.Name) {
		bad("name", "%q must match %s", s.Name, namePattern)
	}
	if s.Prefix != "" && !namePattern.MatchString(s.Prefix) {
		bad("prefix", "%q must match %s", s.Prefix, namePattern)
	}
	if strings.TrimSpace(s.Address) == "" {
		bad("address", "is required")
	}
	if len(s.Services) == 0 {
		bad("services", "list at least one service (full name, such as acme.billing.v1.InvoiceService): only listed services become tools")
	}
	for _, name := range s.Services {
		if !fullNamePattern.MatchString(name) {
			bad("services", "%q is not a full service name such as acme.billing.v1.InvoiceService", name)
		}
	}
	for _, m := range s.Methods {
		if !fullNamePattern.MatchString(strings.ReplaceAll(strings.TrimPrefix(m, "/"), "/", ".")) {
			bad("methods", "%q is not a full method name such as acme.billing.v1.InvoiceService.GetInvoice", m)
		}
	}
	if s.Plaintext && (s.TLS != TLS{}) {
		bad("plaintext", "is set together with tls; choose one")
	}
	if (s.TLS.CertFile == "") != (s.TLS.KeyFile == "") {
		bad("tls", "cert_file and key_file go together")
	}
	for key := range s.Metadata {
		if err := checkMetadataKey(key); err != nil {
			bad("metadata", "%v", err)
		}
		if looksSecret(key) {
			bad("metadata", "%q looks like a credential: put it in metadata_files, so that it stays out of the configuration and of config print", key)
		}
	}
	for key := range s.MetadataFiles {
		if err := checkMetadataKey(key); err != nil {
			bad("metadata_files", "%v", err)
		}
		if _, dup := s.Metadata[key]; dup {
			bad("metadata_files", "%q is also in metadata", key)
		}
	}
	for key, d := range map[string]time.Duration{"timeout": s.Timeout, "refresh_interval": s.RefreshInterval, "reflection_timeout": s.ReflectionTimeout} {
		if d < 0 {
			bad(key, "must not be negative, got %s", d)
		}
	}
	for key, n := range map[string]int{"max_message_bytes": s.MaxMessageBytes, "max_descriptor_bytes": s.MaxDescriptorBytes, "max_stream_messages": s.MaxStreamMessages, "max_stream_bytes": s.MaxStreamBytes} {
		if n < 0 {
			bad(key, "must not be negative, got %d", n)
		}
	}
	return errors.Join(errs...)
}

// checkMetadataKey refuses keys gRPC reserves and the mesh's own.
func checkMetadataKey(key string) error {
	switch {
	case !metadataKeyPattern.MatchString(key):
		return fmt.Errorf("%q must be lowercase letters, digits, '-', '_' or '.'", key)
	case strings.HasSuffix(key, "-bin"):
		return fmt.Errorf("%q: binary metadata is not supported", key)
	case strings.HasPrefix(key, "grpc-"), strings.HasPrefix(key, "mcpmesh-"), key == "te", key == "content-type", key == "user-agent":
		return fmt.Errorf("%q is reserved", key)
	}
	return nil
}

// secretKeyWords mark metadata keys whose values are credentials.
var secretKeyWords = []string{"authorization", "token", "secret", "password", "key", "cookie", "credential"}

func looksSecret(key string) bool {
	for _, w := range secretKeyWords {
		if strings.Contains(key, w) {
			return true
		}
	}
	return false
}
