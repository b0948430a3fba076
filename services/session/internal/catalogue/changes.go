package catalogue

import "bytes"

// List kinds, as they appear in notifications/<kind>/list_changed.
const (
	KindTools     = "tools"
	KindResources = "resources"
	KindPrompts   = "prompts"
)

// Changed lists the kinds whose list differs between two snapshots (a list of
// resources includes its templates). A first snapshot (old nil) changes nothing:
// there was no list a client could have seen.
func Changed(old, next *Snapshot) []string {
	if old == nil || next == nil {
		return nil
	}
	var kinds []string
	if !sameEntries(old.Tools, next.Tools) {
		kinds = append(kinds, KindTools)
	}
	if !sameEntries(old.Resources, next.Resources) || !sameEntries(old.Templates, next.Templates) {
		kinds = append(kinds, KindResources)
	}
	if !sameEntries(old.Prompts, next.Prompts) {
		kinds = append(kinds, KindPrompts)
	}
	return kinds
}

// sameEntries compares what clients of any version see of two sorted lists.
func sameEntries(a, b []Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key {
			return false
		}
		for c := range numClasses {
			if !bytes.Equal(a[i].JSON[c], b[i].JSON[c]) {
				return false
			}
		}
	}
	return true
}
