package registry

import (
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/store"
)

// A provider may announce that a list changed although its new description lists the
// same entries: a federated MCP server that sent list_changed may have re-added what
// it had, or changed what a listing does not show. Its clients would have heard of it
// directly, so the mesh's clients hear of it too. RefreshProvider adds one to the
// provider's count of each announced list (in the store, so every registry replica
// builds the same snapshot); the snapshot's digest of that list moves, watchers get
// a new snapshot with the list flagged changed, and the session service, which sees
// the counts in the snapshot, notifies its clients once per announcement.

// announcedLists turns RefreshProvider's announce into the store's increment: one per
// list named (a list named twice counts once).
func announcedLists(lists []registryv1.CatalogueList) (store.Announced, error) {
	var a store.Announced
	for _, l := range lists {
		switch l {
		case registryv1.CatalogueList_CATALOGUE_LIST_TOOLS:
			a.Tools = 1
		case registryv1.CatalogueList_CATALOGUE_LIST_RESOURCES:
			a.Resources = 1
		case registryv1.CatalogueList_CATALOGUE_LIST_PROMPTS:
			a.Prompts = 1
		default:
			return store.Announced{}, fail(errInvalidArgument, nil, "announce: unknown list %v; want CATALOGUE_LIST_TOOLS, CATALOGUE_LIST_RESOURCES or CATALOGUE_LIST_PROMPTS", l)
		}
	}
	return a, nil
}
