package catalogue

// offer is one provider offering one name (a tool or a prompt).
type offer struct {
	provider string
	name     string
}

// exposeNames gives every offer the name the mesh exposes: its own name when no other
// provider offers the same name, "<provider>.<name>" otherwise. Provider names cannot
// contain a dot, so qualified names never collide with each other; a plain name that
// happens to equal a qualified one (a provider's tool literally named "a.b") is
// qualified too, until no two offers share a name. Offers must be unique per provider.
func exposeNames(offers []offer) []string {
	exposed := make([]string, len(offers))
	qualified := make([]bool, len(offers))
	providersPerName := make(map[string]int, len(offers))
	for _, o := range offers {
		providersPerName[o.name]++
	}
	for i, o := range offers {
		exposed[i] = o.name
		if providersPerName[o.name] > 1 {
			exposed[i], qualified[i] = o.provider+"."+o.name, true
		}
	}
	for {
		uses := make(map[string]int, len(offers))
		for _, e := range exposed {
			uses[e]++
		}
		changed := false
		for i, o := range offers {
			if !qualified[i] && uses[exposed[i]] > 1 {
				exposed[i], qualified[i] = o.provider+"."+o.name, true
				changed = true
			}
		}
		if !changed {
			return exposed
		}
	}
}
