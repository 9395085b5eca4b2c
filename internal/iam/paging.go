package iam

import (
	"cmp"
	"encoding/base64"
	"slices"
	"strings"
)

// defaultMaxItems is the page size when MaxItems is absent.
const defaultMaxItems = 100

// pageOf returns one page of items, which are in the order of sortKey (ascending, unique):
// the items from the one the marker names, at most maxItems of them. It also reports whether
// more items follow and the marker of the next page.
func pageOf[T any](items []T, sortKey func(T) string, marker string, maxItems *int32) (page []T, truncated bool, next string, err error) {
	start := 0
	if marker != "" {
		k, derr := base64.RawURLEncoding.DecodeString(marker)
		if derr != nil {
			return nil, false, "", validationError("Invalid Marker.")
		}
		from := string(k)
		start, _ = slices.BinarySearchFunc(items, from, func(it T, key string) int { return strings.Compare(sortKey(it), key) })
	}
	n := defaultMaxItems
	if maxItems != nil {
		n = int(*maxItems)
	}
	end := min(start+n, len(items))
	page = items[start:end]
	if end < len(items) {
		truncated = true
		next = base64.RawURLEncoding.EncodeToString([]byte(sortKey(items[end])))
	}
	return page, truncated, next, nil
}

// sortedEntities returns the entities of a map sorted by lower-case name.
func sortedEntities(m map[string]*entity, keep func(*entity) bool) []*entity {
	out := make([]*entity, 0, len(m))
	for _, e := range m {
		if keep == nil || keep(e) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *entity) int { return cmp.Compare(lower(a.Name), lower(b.Name)) })
	return out
}

func entityKey(e *entity) string { return lower(e.Name) }
