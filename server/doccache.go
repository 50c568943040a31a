package server

import "github.com/maypok86/otter/v2"

// docCache keeps parsed and validated documents by their text: parsing and validating cost
// more than running most queries. It is bounded by the documents' estimated bytes, and by a
// number of entries through a minimum weight per entry.
type docCache struct {
	c *otter.Cache[string, *document]
}

// newDocCache returns a cache of at most maxBytes of documents and at most maxEntries entries;
// either at 0 turns caching off (get finds nothing, put keeps nothing).
func newDocCache(maxBytes int64, maxEntries int) *docCache {
	if maxBytes <= 0 || maxEntries <= 0 {
		return &docCache{}
	}
	floor := uint32(min(maxBytes/int64(maxEntries), 1<<31))
	return &docCache{c: otter.Must(&otter.Options[string, *document]{
		MaximumWeight: uint64(maxBytes),
		Weigher: func(key string, d *document) uint32 {
			return max(floor, uint32(min(len(key)+d.weight, 1<<31)))
		},
	})}
}

// on reports whether documents are cached at all.
func (c *docCache) on() bool { return c.c != nil }

func (c *docCache) get(key string) *document {
	if c.c == nil {
		return nil
	}
	d, _ := c.c.GetIfPresent(key)
	return d
}

func (c *docCache) put(key string, d *document) {
	if c.c != nil {
		c.c.Set(key, d)
	}
}
