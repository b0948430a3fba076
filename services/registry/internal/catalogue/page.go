package catalogue

import "sort"

// Page returns up to size items whose key sorts after the key after (all items when
// after is empty), from items ordered by key. more reports whether items remain past
// the page. Paging by key keeps cursors stable while the catalogue changes.
func Page[T any](items []T, key func(T) string, after string, size int) (page []T, more bool) {
	start := 0
	if after != "" {
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > after })
	}
	end := min(start+size, len(items))
	return items[start:end], end < len(items)
}
