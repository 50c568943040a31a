package export_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// BenchmarkGzip compresses CSV like an export's (the peer benchmark's invoice columns) at
// BestSpeed with the standard library and with klauspost/compress, which the stream uses.
func BenchmarkGzip(b *testing.B) {
	var csv bytes.Buffer
	for i := range 20_000 {
		fmt.Fprintf(&csv, "%d,INV-%07d,%s,EUR,%d,2024-%02d-%02dT%02d:%02d:00Z\r\n", 1_000_000-i, i, [4]string{"draft", "open", "paid", "void"}[i%4], i*7919%1_000_000, 1+i%12, 1+i%28, i%24, i%60)
	}
	for _, tc := range []struct {
		name string
		new  func(io.Writer) io.WriteCloser
	}{
		{"compress/gzip", func(w io.Writer) io.WriteCloser { z, _ := gzip.NewWriterLevel(w, gzip.BestSpeed); return z }},
		{"klauspost", func(w io.Writer) io.WriteCloser { z, _ := kgzip.NewWriterLevel(w, kgzip.BestSpeed); return z }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(csv.Len()))
			for b.Loop() {
				z := tc.new(io.Discard)
				_, _ = z.Write(csv.Bytes())
				_ = z.Close()
			}
		})
	}
}
