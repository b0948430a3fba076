package config

import (
	"reflect"
	"strings"
	"time"
)

// schema is what the configuration type accepts, read from its koanf tags: the leaf
// keys, which of them are durations, and the keys of maps (whose sub-keys are free).
type schema struct {
	leaves    map[string]reflect.Type
	durations map[string]bool
	maps      []string
}

var durationType = reflect.TypeFor[time.Duration]()

// schemaOf walks T's fields. Structs are sections; every other field (including
// slices, whose elements are not keys of their own) is a leaf.
func schemaOf[T any]() schema {
	s := schema{leaves: map[string]reflect.Type{}, durations: map[string]bool{}}
	s.walk(reflect.TypeFor[T](), "")
	return s
}

func (s *schema) walk(t reflect.Type, prefix string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("koanf"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		key := prefix + name
		ft := f.Type
		switch {
		case ft == durationType:
			s.leaves[key] = ft
			s.durations[key] = true
		case ft.Kind() == reflect.Struct && !ft.Implements(textUnmarshaler) && !reflect.PointerTo(ft).Implements(textUnmarshaler):
			s.walk(ft, key+".")
		case ft.Kind() == reflect.Map:
			s.leaves[key] = ft
			s.maps = append(s.maps, key+".")
		default:
			s.leaves[key] = ft
		}
	}
}

var textUnmarshaler = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()

// known reports whether key is a key of the configuration (a leaf, or an entry of a map).
func (s schema) known(key string) bool {
	if _, ok := s.leaves[key]; ok {
		return true
	}
	for _, p := range s.maps {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// nearest returns the known key closest to key by edit distance, or "" when none is
// close enough to be a likely typo.
func (s schema) nearest(key string) string {
	best, bestDist := "", len(key)/3+2
	for k := range s.leaves {
		if d := editDistance(key, k); d < bestDist || (d == bestDist && best != "" && k < best) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes: keys are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
