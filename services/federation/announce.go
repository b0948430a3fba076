package federation

import (
	"context"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
)

// An upstream's list_changed is passed on to the mesh's clients even when the list the
// mesh builds from it is the same: the upstream may have re-added what it had, or
// changed what its listing does not show, and its own clients would have heard of it.
// Each notification marks its list pending and asks for a refresh; the registration
// loop takes the pending lists with the refresh, which announces them to the registry
// (RefreshProviderRequest.announce). Notifications that arrive while a refresh is
// pending join it, so one signal makes at most one announcement of each list. A new
// connection refreshes without announcing: what it changed, the description shows.

// pendingLists are the lists the upstream said changed since the registration last
// took them.
type pendingLists struct {
	mu    sync.Mutex
	lists []registryv1.CatalogueList
}

// add marks list pending (once).
func (p *pendingLists) add(list registryv1.CatalogueList) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lists {
		if l == list {
			return
		}
	}
	p.lists = append(p.lists, list)
}

// take returns the pending lists and clears them.
func (p *pendingLists) take() []registryv1.CatalogueList {
	p.mu.Lock()
	defer p.mu.Unlock()
	lists := p.lists
	p.lists = nil
	return lists
}

// listChanged records an upstream's list_changed of list and asks for a refresh.
func (u *upstream) listChanged(list registryv1.CatalogueList) {
	u.announced.add(list) // before the signal: the refresh it wakes must see it
	u.signalChanged()
}

// The SDK client's list_changed handlers.

func (u *upstream) onToolListChanged(context.Context, *mcp.ToolListChangedRequest) {
	u.listChanged(registryv1.CatalogueList_CATALOGUE_LIST_TOOLS)
}

func (u *upstream) onPromptListChanged(context.Context, *mcp.PromptListChangedRequest) {
	u.listChanged(registryv1.CatalogueList_CATALOGUE_LIST_PROMPTS)
}

func (u *upstream) onResourceListChanged(context.Context, *mcp.ResourceListChangedRequest) {
	u.listChanged(registryv1.CatalogueList_CATALOGUE_LIST_RESOURCES)
}
