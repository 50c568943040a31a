package resolvers

import (
	"encoding/json"
	"math"
	"testing"
)

// FuzzAppendString: the fast path quotes strings exactly as encoding/json does.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `say "cheese"`, `back\slash`, "<b>&amp;</b>", "tab\tnl\ncr\rbs\bff\f", "\x00\x1f\x7f", "Hämäläinen", "\u2028\u2029", "\xff\xfe invalid", "emoji 🙂"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestAppendFloat(t *testing.T) {
	for _, f := range []float64{0, 1, -1.5, 0.1, 1e20, 1e21, 1.5e21, 1e-6, 1e-7, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64, -2.5e-9} {
		want, _ := json.Marshal(f)
		if got := appendFloat(nil, f); string(got) != string(want) {
			t.Errorf("appendFloat(%v) = %s, want %s", f, got, want)
		}
	}
	if got := string(appendFloat(nil, math.NaN())); got != "null" {
		t.Errorf("NaN encodes as %s", got)
	}
}
