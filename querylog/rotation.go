package querylog

import (
	"cmp"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// rotated matches the suffix logrotate adds: ".N" (numbered, higher is older) or "-YYYYMMDD[HH]"
// / ".YYYYMMDD[HH]" (dateext, earlier is older).
var rotated = regexp.MustCompile(`^(.*?)(?:\.(\d{1,7})|[-.](\d{8,10}))$`)

// RotationOrder returns paths oldest first within each log: for slow.log, slow.log.1 and
// slow.log.2.gz that is slow.log.2.gz, slow.log.1, slow.log; dated files (slow.log-20261128)
// come before numbered ones, and the live file last. Different logs keep their order of first
// appearance.
func RotationOrder(paths []string) []string {
	type item struct {
		path, base string
		class      int   // 0 dated, 1 numbered, 2 live
		age        int64 // ascending means older first
		first      int   // position of the base's first file
	}
	firsts := map[string]int{}
	items := make([]item, 0, len(paths))
	for _, p := range paths {
		name := strings.TrimSuffix(p, ".gz")
		it := item{path: p, base: name, class: 2}
		if m := rotated.FindStringSubmatch(name); m != nil && filepath.Base(m[1]) != "" {
			it.base = m[1]
			if m[2] != "" {
				n, _ := strconv.ParseInt(m[2], 10, 64)
				it.class, it.age = 1, -n
			} else {
				n, _ := strconv.ParseInt(m[3], 10, 64)
				it.class, it.age = 0, n
			}
		}
		if _, ok := firsts[it.base]; !ok {
			firsts[it.base] = len(firsts)
		}
		it.first = firsts[it.base]
		items = append(items, it)
	}
	slices.SortStableFunc(items, func(a, b item) int {
		return cmp.Or(cmp.Compare(a.first, b.first), cmp.Compare(a.class, b.class), cmp.Compare(a.age, b.age))
	})
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.path
	}
	return out
}
