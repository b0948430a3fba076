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
	"strconv"
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

// Loaded is a loaded configuration.
type Loaded[T any] struct {
	Value T
	// Warnings are problems that did not stop the load: MCPMESH_* environment
	// variables that match no key (an environment also carries variables that other
	// software sets, such as Kubernetes service links, so they are not errors).
	Warnings []string
}

// origin says where a value came from, in the words of an error message.
type origin struct {
	kind string // "file", "env" or "flag"
	name string // the file path, the variable or the flag
}

func (o origin) String() string {
	switch o.kind {
	case "file":
		return "config file " + o.name
	case "env":
		return "environment variable " + o.name
	default:
		return "flag -" + o.name
	}
}

// example is how a corrected setting of key to value is written in o's layer.
func (o origin) example(key, value string) string {
	switch o.kind {
	case "file":
		if i := strings.LastIndex(key, "."); i >= 0 {
			return key[i+1:] + ": " + value + " (under " + key[:i] + ":)"
		}
		return key + ": " + value
	case "env":
		return EnvName(key) + "=" + value
	default:
		return "-" + key + "=" + value
	}
}

// Load builds the configuration from defaults and the sources. T's fields carry koanf
// tags. The returned error joins every problem found; each names its key and where the
// value came from.
func Load[T any](defaults T, src Sources) (Loaded[T], error) {
	sch := schemaOf[T]()
	k := koanf.New(".")
	if err := k.Load(structs.Provider(defaults, "koanf"), nil); err != nil {
		return Loaded[T]{}, fmt.Errorf("load defaults: %w", err)
	}
	var problems []error
	var warnings []string
	if src.File != "" {
		fk := koanf.New(".")
		if _, err := os.Stat(src.File); err != nil {
			problems = append(problems, fmt.Errorf("config file: %w", err))
		} else if err := fk.Load(file.Provider(src.File), yaml.Parser()); err != nil {
			problems = append(problems, fmt.Errorf("config file %s: %w", src.File, err))
		} else {
			from := origin{"file", src.File}
			for _, key := range fk.Keys() {
				if err := sch.check(key, fk.Get(key), from); err != nil {
					problems = append(problems, err)
					fk.Delete(key)
				}
			}
			if err := k.Merge(fk); err != nil {
				problems = append(problems, fmt.Errorf("config file %s: %w", src.File, err))
			}
		}
	}
	env, envProblems, unmatched := envValues(src.Environ, sch)
	problems = append(problems, envProblems...)
	warnings = append(warnings, unmatched...)
	if len(env) > 0 {
		if err := k.Load(confmap.Provider(env, "."), nil); err != nil {
			problems = append(problems, fmt.Errorf("environment: %w", err))
		}
	}
	if src.Flags != nil {
		flags := flagValues(src.Flags, k)
		for key, v := range flags {
			if err := sch.check(key, v, origin{"flag", key}); err != nil {
				problems = append(problems, err)
				delete(flags, key)
			}
		}
		if err := k.Load(confmap.Provider(flags, "."), nil); err != nil {
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
		// A safety net: unknown keys were reported (and removed) above, with their origin.
		ErrorUnused: true,
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
		return Loaded[T]{Warnings: warnings}, fmt.Errorf("invalid configuration:\n%w", errors.Join(problems...))
	}
	return Loaded[T]{Value: out, Warnings: warnings}, nil
}

// check reports a key the configuration does not have (with the nearest one it has),
// and a duration written as a bare number, which would silently mean nanoseconds.
func (s schema) check(key string, value any, from origin) error {
	if !s.known(key) {
		if s.isSection(key) {
			return fmt.Errorf("%s: %s is a section, not a value: set the keys under it", from, key)
		}
		if near := s.nearest(key); near != "" {
			return fmt.Errorf("%s: unknown key %s (did you mean %s?)", from, key, near)
		}
		return fmt.Errorf("%s: unknown key %s", from, key)
	}
	if s.durations[key] {
		if n, ok := unitlessNumber(value); ok {
			return fmt.Errorf("%s: %s: %s has no unit and would be read as %s nanoseconds; write a duration with a unit (ms, s, m, h), for example %s",
				from, key, n, n, from.example(key, n+"s"))
		}
	}
	return nil
}

// isSection reports whether key names a group of keys rather than one.
func (s schema) isSection(key string) bool {
	for leaf := range s.leaves {
		if strings.HasPrefix(leaf, key+".") {
			return true
		}
	}
	return false
}

// unitlessNumber returns the number a duration was written as when it has no unit.
// Zero needs none.
func unitlessNumber(v any) (string, bool) {
	var text string
	switch x := v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		text = fmt.Sprint(x)
	case string:
		text = strings.TrimSpace(x)
	default:
		return "", false
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f == 0 {
		return "", false
	}
	return text, true
}

// EnvName is the environment variable that sets key: MCPMESH_ and the key in upper
// case with dots as underscores (database.url -> MCPMESH_DATABASE_URL).
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// envValues maps MCPMESH_* variables onto known keys. Matching against the known keys,
// rather than splitting on underscores, keeps keys that contain underscores usable.
// A variable that matches no key comes back as a warning naming the nearest one.
func envValues(environ []string, s schema) (values map[string]any, problems []error, unmatched []string) {
	byEnv := make(map[string]string, len(s.leaves))
	for key := range s.leaves {
		byEnv[EnvName(key)] = key
	}
	values = map[string]any{}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		key, ok := byEnv[name]
		if !ok {
			msg := "environment variable " + name + " matches no configuration key; ignored"
			if near := s.nearest(strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, EnvPrefix), "_", "."))); near != "" {
				msg += " (did you mean " + EnvName(near) + "?)"
			}
			unmatched = append(unmatched, msg)
			continue
		}
		if err := s.check(key, value, origin{"env", name}); err != nil {
			problems = append(problems, err)
			continue
		}
		values[key] = value
	}
	slices.Sort(unmatched)
	return values, problems, unmatched
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

// Print writes the effective configuration, as decoded (durations with units, lists as
// lists), as YAML with secrets masked: values of keys that name a secret, and passwords
// inside URLs.
func (l Loaded[T]) Print(w io.Writer) error {
	decoded := koanf.New(".")
	if err := decoded.Load(structs.Provider(l.Value, "koanf"), nil); err != nil {
		return fmt.Errorf("print configuration: %w", err)
	}
	flat := map[string]any{}
	for key, v := range decoded.All() {
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
	// A *_file key holds the path of a secret, not the secret: shown, so that an
	// operator can check which file is read.
	isPath := strings.HasSuffix(last, "_file")
	if s, ok := v.(string); ok && s != "" && !isPath && slices.ContainsFunc(secretWords, func(w string) bool { return strings.Contains(last, w) }) {
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
