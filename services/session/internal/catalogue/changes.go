package catalogue

import "bytes"

// List kinds, as they appear in notifications/<kind>/list_changed.
const (
	KindTools     = "tools"
	KindResources = "resources"
	KindPrompts   = "prompts"
)

// Changed lists the kinds whose list differs between two snapshots (a list of
// resources includes its templates), or that a provider in both announced changed in
// between (a federated server's list_changed: its clients would have heard of it,
// even if what it lists is the same). A first snapshot (old nil) changes nothing:
// there was no list a client could have seen.
func Changed(old, next *Snapshot) []string {
	if old == nil || next == nil {
		return nil
	}
	announced := announcedBetween(old, next)
	var kinds []string
	if announced.tools != 0 || !sameEntries(old.Tools, next.Tools) {
		kinds = append(kinds, KindTools)
	}
	if announced.resources != 0 || !sameEntries(old.Resources, next.Resources) || !sameEntries(old.Templates, next.Templates) {
		kinds = append(kinds, KindResources)
	}
	if announced.prompts != 0 || !sameEntries(old.Prompts, next.Prompts) {
		kinds = append(kinds, KindPrompts)
	}
	return kinds
}

// announcements are one provider's counts of announced list changes (the registry's
// ListAnnouncements).
type announcements struct{ tools, resources, prompts int64 }

// announcedBetween marks (non-zero) each list whose count moved between the snapshots
// for a provider present in both. A provider that came or went changed the lists by
// its entries, if it had any, and its counts say nothing then.
func announcedBetween(old, next *Snapshot) announcements {
	var moved announcements
	mark := func(name string) {
		if _, ok := old.Providers[name]; !ok {
			return
		}
		if _, ok := next.Providers[name]; !ok {
			return
		}
		a, b := old.announced[name], next.announced[name]
		if a.tools != b.tools {
			moved.tools = 1
		}
		if a.resources != b.resources {
			moved.resources = 1
		}
		if a.prompts != b.prompts {
			moved.prompts = 1
		}
	}
	for name := range old.announced {
		mark(name)
	}
	for name := range next.announced {
		mark(name)
	}
	return moved
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
