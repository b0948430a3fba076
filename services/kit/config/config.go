// Package config loads a typed configuration in layers with koanf: the defaults, then
// an optional YAML file, then MCPMESH_* environment variables, then command-line flags.
// Every problem (unknown keys, wrong types, failed validation) is reported at once, and
// Print shows the effective configuration with secrets masked.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/structs"
	"github.com/knadh/koanf/v2"
)

// EnvPrefix starts every environment variable that sets a configuration key.
const EnvPrefix = "MCPMESH_"

// Sources says where the layers above the defaults come from.
type Sources struct {
	// File is a YAML file; empty for none.
	File string
	// Environ is the environment as os.Environ returns it.
	Environ []string
	// Flags holds command-line flags named after keys ("http.listen"); only flags that
	// were set on the command line override the other layers. Flags that name no key
	// (such as -config) are ignored here.
	Flags *flag.FlagSet
}

// Validator is implemented by configurations that check themselves.
type Validator interface {
	Validate() error
}

// Loaded is a loaded configuration with the layered key values it came from.
type Loaded[T any] struct {
	Value T
	k     *koanf.Koanf
}

// Load builds the configuration from defaults and the sources. T's fields carry koanf
// tags. The returned error joins every problem found.
func Load[T any](defaults T, src Sources) (Loaded[T], error) {
	k := koanf.New(".")
	if err := k.Load(structs.Provider(defaults, "koanf"), nil); err != nil {
		return Loaded[T]{}, fmt.Errorf("load defaults: %w", err)
	}
	known := k.Keys()
	var problems []error
	if src.File != "" {
		if _, err := os.Stat(src.File); err != nil {
			problems = append(problems, fmt.Errorf("config file: %w", err))
		} else if err := k.Load(file.Provider(src.File), yaml.Parser()); err != nil {
			problems = append(problems, fmt.Errorf("config file %s: %w", src.File, err))
		}
	}
	if env := envValues(src.Environ, known); len(env) > 0 {
		if err := k.Load(confmap.Provider(env, "."), nil); err != nil {
			problems = append(problems, fmt.Errorf("environment: %w", err))
		}
	}
	if src.Flags != nil {
		if err := k.Load(confmap.Provider(flagValues(src.Flags, k), "."), nil); err != nil {
			problems = append(problems, fmt.Errorf("flags: %w", err))
		}
	}
	var out T
	if err := k.UnmarshalWithConf("", &out, koanf.UnmarshalConf{DecoderConfig: &mapstructure.DecoderConfig{
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
			mapstructure.TextUnmarshallerHookFunc(),
		),
		Metadata:         nil,
		Result:           &out,
		TagName:          "koanf",
		WeaklyTypedInput: true,
		ErrorUnused:      true,
	}}); err != nil {
		problems = append(problems, err)
	}
	// Validate even when decoding failed, so every problem shows at once; a field that
	// failed to decode may add a follow-on complaint, which still names its key.
	if v, ok := any(&out).(Validator); ok {
		if err := v.Validate(); err != nil {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return Loaded[T]{}, fmt.Errorf("invalid configuration:\n%w", errors.Join(problems...))
	}
	return Loaded[T]{Value: out, k: k}, nil
}

// EnvName is the environment variable that sets key: MCPMESH_ and the key in upper
// case with dots as underscores (database.url -> MCPMESH_DATABASE_URL).
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// envValues maps MCPMESH_* variables onto known keys. Matching against the known keys,
// rather than splitting on underscores, keeps keys that contain underscores usable.
func envValues(environ, known []string) map[string]any {
	byEnv := make(map[string]string, len(known))
	for _, key := range known {
		byEnv[EnvName(key)] = key
	}
	out := map[string]any{}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		if key, ok := byEnv[name]; ok {
			out[key] = value
		}
	}
	return out
}

// flagValues returns the flags set on the command line that name a key.
func flagValues(fs *flag.FlagSet, k *koanf.Koanf) map[string]any {
	out := map[string]any{}
	fs.Visit(func(f *flag.Flag) {
		if k.Exists(f.Name) {
			out[f.Name] = f.Value.String()
		}
	})
	return out
}

// secretWords mark keys whose values are masked when printed.
var secretWords = []string{"password", "secret", "token", "key"}

// Print writes the effective configuration as YAML with secrets masked: values of keys
// that name a secret, and passwords inside URLs.
func (l Loaded[T]) Print(w io.Writer) error {
	flat := map[string]any{}
	for key, v := range l.k.All() {
		flat[key] = printable(key, v)
	}
	out := koanf.New(".")
	if err := out.Load(confmap.Provider(flat, "."), nil); err != nil {
		return fmt.Errorf("print configuration: %w", err)
	}
	b, err := out.Marshal(yaml.Parser())
	if err != nil {
		return fmt.Errorf("print configuration: %w", err)
	}
	_, err = w.Write(b)
	return err
}

func printable(key string, v any) any {
	last := key[strings.LastIndex(key, ".")+1:]
	if s, ok := v.(string); ok && s != "" && slices.ContainsFunc(secretWords, func(w string) bool { return strings.Contains(last, w) }) {
		return "********"
	}
	switch x := v.(type) {
	case time.Duration:
		return x.String()
	case string:
		return maskURLPassword(x)
	}
	return v
}

// maskURLPassword hides the password of a URL such as a database DSN.
func maskURLPassword(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); !has {
		return s
	}
	u.User = url.UserPassword(u.User.Username(), "********")
	return u.String()
}
