// Package workload generates the benchmark inputs: release zips shaped like
// real a2 packages, and roots holding thousands of package folders.
//
// Everything is deterministic for a given seed, so two runs of the harness
// measure the same bytes.
package workload

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path"
	"runtime"
	"sync"
	"time"
)

// ZipSpec describes a release zip to generate.
type ZipSpec struct {
	Name    string // package name, written into its a2modsource.json
	Version string
	Files   int   // regular files, the manifest included
	Bytes   int64 // approximate size of the zip itself
	Seed    uint64
}

// ZipInfo is what was generated.
type ZipInfo struct {
	Files    int    // regular files
	Dirs     int    // folder entries
	ZipBytes int64  // size of the zip
	RawBytes int64  // sum of the uncompressed file sizes
	SHA256   string // of the zip, hex
}

// The mix: by count 70% text files (scripts, docs, json; deflated about
// 3.5:1), 30% binary files (icons, images, dlls; random bytes, stored the
// way zip and git archive store data that deflate cannot shrink). Binary
// files are 2.33 times larger on average, so half the uncompressed bytes
// are each kind and the zip is about 0.64 of the uncompressed size.
const (
	binaryShare = 0.30
	binaryScale = 0.70 / 0.30 // mean binary size / mean text size
	textRatio   = 3.5         // deflate ratio of the generated text, measured
	fixedTime   = 1_700_000_000
)

var (
	textExts   = []string{".ahk", ".ahk", ".ahk", ".md", ".json", ".txt", ".ini"}
	binaryExts = []string{".png", ".ico", ".dll", ".exe", ".jpg"}
)

// WriteZip writes a zip of spec to path. Entries are compressed in parallel
// and written in a fixed order, so the bytes depend only on spec.
func WriteZip(path string, spec ZipSpec) (ZipInfo, error) {
	if spec.Files < 2 {
		return ZipInfo{}, fmt.Errorf("workload: a zip needs at least 2 files")
	}
	// Expected zip bytes per unit of mean text size, per file:
	// (1-b)*t/r + b*scale*t, plus ~150 bytes of headers per entry.
	perFile := (1-binaryShare)/textRatio + binaryShare*binaryScale
	headers := 150.0 * float64(spec.Files)
	meanText := math.Max((float64(spec.Bytes)-headers)/float64(spec.Files)/perFile, 64)

	corpus := textCorpus(spec.Seed, 8<<20)
	files := planFiles(spec, meanText)

	f, err := os.Create(path)
	if err != nil {
		return ZipInfo{}, err
	}
	defer f.Close()
	sum := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, sum)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	zw := zip.NewWriter(bw)
	info := ZipInfo{}

	for _, d := range dirsOf(files) {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: d + "/", Method: zip.Store, Modified: time.Unix(fixedTime, 0).UTC()}); err != nil {
			return ZipInfo{}, err
		}
		info.Dirs++
	}

	// Workers compress entry i into slot i; the writer takes the slots in
	// order. The semaphore bounds how far workers run ahead (memory).
	type done struct {
		hdr  *zip.FileHeader
		data []byte
	}
	slots := make([]chan done, len(files))
	for i := range slots {
		slots[i] = make(chan done, 1)
	}
	sem := make(chan struct{}, 256)
	var next int64 = -1
	var mu sync.Mutex
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var buf bytes.Buffer
			fw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
			for {
				sem <- struct{}{}
				mu.Lock()
				next++
				i := next
				mu.Unlock()
				if i >= int64(len(files)) {
					<-sem
					return
				}
				pf := files[i]
				content := pf.content(spec, corpus)
				h := &zip.FileHeader{
					Name:               pf.name,
					Modified:           time.Unix(fixedTime, 0).UTC(),
					CRC32:              crc32.ChecksumIEEE(content),
					UncompressedSize64: uint64(len(content)),
				}
				h.SetMode(0o644)
				// CreateRaw, unlike CreateHeader, does not fill in the
				// MS-DOS time from Modified.
				h.SetModTime(h.Modified) //nolint:staticcheck
				var data []byte
				if pf.binary {
					h.Method = zip.Store
					data = content
				} else {
					h.Method = zip.Deflate
					buf.Reset()
					fw.Reset(&buf)
					fw.Write(content)
					fw.Close()
					data = bytes.Clone(buf.Bytes())
				}
				h.CompressedSize64 = uint64(len(data))
				slots[i] <- done{h, data}
			}
		})
	}
	var werr error
	for i := range files {
		d := <-slots[i]
		<-sem
		if werr != nil {
			continue
		}
		w, err := zw.CreateRaw(d.hdr)
		if err == nil {
			_, err = w.Write(d.data)
		}
		werr = err
		info.Files++
		info.RawBytes += int64(d.hdr.UncompressedSize64)
	}
	wg.Wait()
	if werr != nil {
		return ZipInfo{}, werr
	}
	if err := zw.Close(); err != nil {
		return ZipInfo{}, err
	}
	if err := bw.Flush(); err != nil {
		return ZipInfo{}, err
	}
	if err := f.Close(); err != nil {
		return ZipInfo{}, err
	}
	info.ZipBytes = cw.n
	info.SHA256 = hex.EncodeToString(sum.Sum(nil))
	return info, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// plannedFile is one file of the zip.
type plannedFile struct {
	idx    int
	name   string
	size   int
	binary bool
	seed   uint64
	off    int // text: where in the corpus it starts
}

// planFiles lays out the package: a manifest at the top, then modules
// (folders with an a2module.json) holding files one or two folders deep.
// Sizes follow an exponential distribution (many small files, a long tail
// of large ones), capped at 40 times the mean.
func planFiles(spec ZipSpec, meanText float64) []plannedFile {
	rnd := rand.New(rand.NewPCG(spec.Seed, 0x5eed))
	modules := max(spec.Files/100, 1)
	files := make([]plannedFile, 0, spec.Files)
	files = append(files, plannedFile{name: "a2modsource.json"})
	for m := 0; len(files) < spec.Files && m < modules; m++ {
		files = append(files, plannedFile{name: fmt.Sprintf("mod%03d/a2module.json", m), size: 200 + rnd.IntN(400)})
	}
	for len(files) < spec.Files {
		i := len(files)
		m := rnd.IntN(modules)
		binary := rnd.Float64() < binaryShare
		mean := meanText
		ext := textExts[rnd.IntN(len(textExts))]
		if binary {
			mean *= binaryScale
			ext = binaryExts[rnd.IntN(len(binaryExts))]
		}
		size := int(math.Min(rnd.ExpFloat64()*mean, 40*mean))
		var dir string
		switch rnd.IntN(3) {
		case 0:
			dir = fmt.Sprintf("mod%03d", m)
		case 1:
			dir = fmt.Sprintf("mod%03d/lib", m)
		default:
			dir = fmt.Sprintf("mod%03d/res/d%d", m, rnd.IntN(8))
		}
		files = append(files, plannedFile{
			name:   fmt.Sprintf("%s/f%05d%s", dir, i, ext),
			size:   size,
			binary: binary,
			seed:   rnd.Uint64(),
		})
	}
	for i := range files {
		files[i].idx = i
		if !files[i].binary {
			files[i].off = int(files[i].seed % (4 << 20))
		}
	}
	return files
}

func dirsOf(files []plannedFile) []string {
	seen := map[string]bool{}
	var dirs []string
	for _, f := range files {
		var chain []string
		for d := path.Dir(f.name); d != "." && !seen[d]; d = path.Dir(d) {
			seen[d] = true
			chain = append(chain, d)
		}
		for i := len(chain) - 1; i >= 0; i-- {
			dirs = append(dirs, chain[i])
		}
	}
	return dirs
}

func (p plannedFile) content(spec ZipSpec, corpus []byte) []byte {
	switch {
	case p.idx == 0:
		m := map[string]any{
			"name": spec.Name, "version": spec.Version,
			"description": "A generated package for modup's benchmarks.",
			"maintainer":  "modup bench",
		}
		b, _ := json.MarshalIndent(m, "", "  ")
		return append(b, '\n')
	case p.name == path.Dir(p.name)+"/a2module.json":
		b, _ := json.MarshalIndent(map[string]any{
			"display_name": path.Dir(p.name), "version": spec.Version,
			"description": "generated module " + string(corpus[p.size:p.size+120]),
		}, "", "  ")
		return b
	case p.binary:
		b := make([]byte, p.size)
		r := rand.NewChaCha8([32]byte{byte(p.seed), byte(p.seed >> 8), byte(p.seed >> 16), byte(p.seed >> 24),
			byte(p.seed >> 32), byte(p.seed >> 40), byte(p.seed >> 48), byte(p.seed >> 56), byte(spec.Seed)})
		r.Read(b)
		return b
	}
	// Text: a header that makes the file unique, then a slice of the
	// corpus (wrapping around).
	b := make([]byte, 0, p.size)
	b = fmt.Appendf(b, "; %s %s file %d\n", spec.Name, spec.Version, p.idx)
	for len(b) < p.size {
		chunk := corpus[p.off%len(corpus):]
		b = append(b, chunk[:min(len(chunk), p.size-len(b))]...)
		p.off = 0
	}
	return b[:p.size]
}

// textCorpus is n bytes of AutoHotkey-like source: identifiers, keywords,
// numbers and strings drawn at random, so that deflate finds the 3-4:1 of
// real scripts rather than the 100:1 of repeated text.
func textCorpus(seed uint64, n int) []byte {
	rnd := rand.New(rand.NewPCG(seed, 0xc0de))
	keywords := []string{"if", "else", "return", "Loop", "while", "for", "in", "global", "static", "Send", "MsgBox",
		"WinActivate", "SetTimer", "Gui", "Hotkey", "IniRead", "IniWrite", "FileRead", "RegExMatch", "StrSplit",
		"InStr", "SubStr", "true", "false", "A_ScriptDir", "A_Index", "ErrorLevel", "#Include", "class", "new", "this"}
	syll := []string{"ka", "to", "mi", "ra", "sen", "dor", "lu", "vex", "qi", "bar", "nol", "tri", "pe", "zu", "han", "wyn"}
	ident := func() string {
		s := ""
		for range 1 + rnd.IntN(3) {
			s += syll[rnd.IntN(len(syll))]
		}
		if rnd.IntN(3) == 0 {
			s += fmt.Sprint(rnd.IntN(100))
		}
		return s
	}
	idents := make([]string, 4000)
	for i := range idents {
		idents[i] = ident()
	}
	b := make([]byte, 0, n+256)
	indent := 0
	for len(b) < n {
		b = append(b, "                "[:min(indent*4, 16)]...)
		switch rnd.IntN(10) {
		case 0:
			b = fmt.Appendf(b, "; %s %s %s %s\n", idents[rnd.IntN(4000)], keywords[rnd.IntN(len(keywords))], idents[rnd.IntN(4000)], idents[rnd.IntN(4000)])
		case 1:
			b = fmt.Appendf(b, "%s(%s, %s) {\n", idents[rnd.IntN(4000)], idents[rnd.IntN(4000)], idents[rnd.IntN(4000)])
			indent++
		case 2:
			if indent > 0 {
				indent--
			}
			b = append(b, "}\n"...)
		case 3:
			b = fmt.Appendf(b, "%s := \"%s %s %d\"\n", idents[rnd.IntN(4000)], idents[rnd.IntN(4000)], idents[rnd.IntN(4000)], rnd.IntN(100000))
		case 4:
			b = fmt.Appendf(b, "if (%s %s %d)\n", idents[rnd.IntN(4000)], []string{"=", "!=", "<", ">"}[rnd.IntN(4)], rnd.IntN(1000))
		default:
			b = fmt.Appendf(b, "%s %s, %s, %d\n", keywords[rnd.IntN(len(keywords))], idents[rnd.IntN(4000)], idents[rnd.IntN(4000)], rnd.IntN(1<<20))
		}
	}
	return b[:n]
}
