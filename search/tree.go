package search

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/BurntSushi/toml"
)

// item is one key of a TOML document with the line it is on. Tables keep
// their keys in document order, which is what gives searched parameters
// their order.
type item struct {
	key   string // full dotted key, quoted where TOML needs it
	name  string // last piece of the key
	line  int    // 0 when unknown
	val   any    // as decoded by toml into an interface: int64, float64, string, bool, []any, map[string]any, ...
	table bool   // val is a table; kids holds its keys
	kids  []*item
}

// errProbe is returned by probe to make toml report the position of a key.
var errProbe = errors.New("probe")

// probe makes MetaData.PrimitiveDecode fail, and toml's ParseError for that
// failure carries the position of the key being decoded: the only position
// information toml exposes.
type probe struct{}

func (probe) UnmarshalTOML(any) error { return errProbe }

// readTree parses src into a tree of items. The error is toml's, a
// toml.ParseError for syntax errors.
func readTree(src []byte) (root *item, err error) {
	defer func() {
		// toml is fuzzed upstream, but a spec must never crash the CLI.
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("toml: %v", r)
		}
	}()
	var top map[string]toml.Primitive
	md, err := toml.NewDecoder(bytes.NewReader(src)).Decode(&top)
	if err != nil {
		return nil, err
	}
	// The first appearance of a key or any key under it: document order,
	// also for tables that are only implied by dotted keys.
	order := make(map[string]int)
	for i, k := range md.Keys() {
		for n := 1; n <= len(k); n++ {
			s := k[:n].String()
			if _, ok := order[s]; !ok {
				order[s] = i
			}
		}
	}
	root = &item{table: true}
	root.kids = buildItems(&md, nil, top, order)
	return root, nil
}

func buildItems(md *toml.MetaData, prefix toml.Key, m map[string]toml.Primitive, order map[string]int) []*item {
	items := make([]*item, 0, len(m))
	for name, prim := range m {
		key := append(slices.Clone(prefix), name)
		it := &item{key: key.String(), name: name}
		var pe toml.ParseError
		if err := md.PrimitiveDecode(prim, probe{}); errors.As(err, &pe) {
			it.line = pe.Position.Line
		}
		if err := md.PrimitiveDecode(prim, &it.val); err != nil {
			it.val = nil
		}
		if _, ok := it.val.(map[string]any); ok {
			var sub map[string]toml.Primitive
			if md.PrimitiveDecode(prim, &sub) == nil {
				it.table = true
				it.kids = buildItems(md, key, sub, order)
				if it.line == 0 && len(it.kids) > 0 {
					it.line = it.kids[0].line
				}
			}
		}
		items = append(items, it)
	}
	slices.SortFunc(items, func(a, b *item) int { return order[a.key] - order[b.key] })
	return items
}

// typeName names the TOML type of a decoded value, for messages.
func typeName(v any) string {
	switch v := v.(type) {
	case int64:
		return fmt.Sprintf("integer %d", v)
	case float64:
		return "float " + fmtFloat(v)
	case string:
		return "string " + quote(v)
	case bool:
		return fmt.Sprintf("boolean %t", v)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case time.Time:
		return "a date/time"
	}
	return "a value"
}
