package archive

import (
	"archive/zip"
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// writeBenchZip writes a release-like zip: a GitHub wrapper folder, files in
// a few hundred folders, sizes spread around the mean, text-like content.
func writeBenchZip(b *testing.B, path string, files int, totalBytes int64) {
	b.Helper()
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	bw := bufio.NewWriterSize(out, 1<<20)
	zw := zip.NewWriter(bw)
	rnd := rand.New(rand.NewPCG(1, 1))
	words := []string{"Send", "MsgBox", "if", "return", "{", "}", "a2", "module", "hotkey", "Loop", "\n", "    ", "x := 1", "; comment"}
	mean := totalBytes / int64(files)
	add := func(name string, size int64) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: fixedTime})
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 0, size+16)
		for int64(len(buf)) < size {
			if rnd.IntN(4) == 0 {
				buf = append(buf, byte('!'+rnd.IntN(90)))
			} else {
				buf = append(buf, words[rnd.IntN(len(words))]...)
				buf = append(buf, ' ')
			}
		}
		w.Write(buf[:size])
	}
	add("pkg-1.0.0/"+ManifestName, 100)
	for i := range files - 1 {
		add(fmt.Sprintf("pkg-1.0.0/d%03d/e%d/f%05d.ahk", i%300, i%4, i), rnd.Int64N(2*mean))
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkExtract extracts a 20,000-file archive. Set MODUP_BENCH_ZIP to
// keep the generated zip there (to compare with `unzip -q` by hand),
// MODUP_BENCH_MB to change its size (default 200) and MODUP_BENCH_WORKERS
// to set Options.Workers.
func BenchmarkExtract(b *testing.B) {
	zipPath := os.Getenv("MODUP_BENCH_ZIP")
	if zipPath == "" {
		zipPath = filepath.Join(b.TempDir(), "bench.zip")
	}
	mb := int64(200)
	if s := os.Getenv("MODUP_BENCH_MB"); s != "" {
		fmt.Sscan(s, &mb)
	}
	if _, err := os.Stat(zipPath); err != nil {
		writeBenchZip(b, zipPath, 20_000, mb<<20)
	}
	for _, durable := range []bool{false, true} {
		b.Run(fmt.Sprintf("durable=%v", durable), func(b *testing.B) {
			var res Result
			for b.Loop() {
				b.StopTimer()
				dest, err := os.MkdirTemp(filepath.Dir(zipPath), "dest-")
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err = ExtractFile(b.Context(), zipPath, dest, Options{Durable: durable, Workers: benchWorkers()})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				os.RemoveAll(dest)
				b.StartTimer()
			}
			b.SetBytes(res.Bytes)
			b.ReportMetric(float64(res.Files), "files")
		})
	}
}

func benchWorkers() int {
	n := 0
	fmt.Sscan(os.Getenv("MODUP_BENCH_WORKERS"), &n)
	return n
}
