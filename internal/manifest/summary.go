package manifest

import (
	"bytes"
	"encoding/json"
	"sync"
)

// Summary is a manifest as a cache keeps it between runs (pkgdir's scan
// cache): the file's bytes and the known fields Parse decoded from them,
// so that a manifest read before is not parsed again. Only a manifest
// without key_rotation and without requirement fields has one; the others
// are parsed each time.
type Summary struct {
	// Data is the file's bytes, as Parse was given them (a string: a
	// cache keeps thousands in one string, without a copy each).
	Data string
	// Fields are the known string fields, in summaryFields order.
	Fields [len(summaryFields)]string
	// ZipSize is zip_size.
	ZipSize int64
}

// summaryFields are the string fields a Summary carries, in order. The
// order is part of the scan cache's format: add new fields at the end and
// change the cache's version.
var summaryFields = [...]string{"name", "display_name", "description", "news", "maintainer", "url",
	"update_url", "main_branch", "version", "sha256", "public_key"}

// fieldPtrs are m's fields in summaryFields order.
func (m *Manifest) fieldPtrs() [len(summaryFields)]*string {
	return [...]*string{&m.Name, &m.DisplayName, &m.Description, &m.News, &m.Maintainer, &m.URL,
		&m.UpdateURL, &m.MainBranch, &m.Version, &m.SHA256, &m.PublicKey}
}

// Summarize returns the summary of m, parsed from data, and whether it
// has one (see Summary).
func (m *Manifest) Summarize(data []byte) (Summary, bool) {
	if m.KeyRotation != nil || m.ManifestVersion != 0 || m.HasRequirements() {
		return Summary{}, false
	}
	s := Summary{Data: string(data), ZipSize: m.ZipSize}
	for i, p := range m.fieldPtrs() {
		s.Fields[i] = *p
	}
	return s, true
}

// FromSummary is the manifest s summarizes, as Parse of s.Data would
// return it, read from file. Its fields are s's; what only the bytes hold
// (Raw, Keys, Marshal) is split out of them on first use.
func FromSummary(s Summary, file string) *Manifest {
	m := &Manifest{}
	m.fromSummary(s, file, &lazyRaw{})
	return m
}

func (m *Manifest) fromSummary(s Summary, file string, lazy *lazyRaw) {
	lazy.data = s.Data
	m.file, m.ZipSize, m.lazy = file, s.ZipSize, lazy
	for i, p := range m.fieldPtrs() {
		*p = s.Fields[i]
	}
}

// A Block makes manifests from summaries (FromSummary) a batch at a time:
// a scan of thousands of packages allocates them in a few large pieces
// instead of two small ones each. Not safe for concurrent use: one per
// goroutine.
type Block struct {
	ms    []Manifest
	lazys []lazyRaw
}

// blockSize is how many manifests a Block allocates at once.
const blockSize = 64

// FromSummary is FromSummary, from b's current batch.
func (b *Block) FromSummary(s Summary, file string) *Manifest {
	if len(b.ms) == 0 {
		b.ms, b.lazys = make([]Manifest, blockSize), make([]lazyRaw, blockSize)
	}
	m, lazy := &b.ms[0], &b.lazys[0]
	b.ms, b.lazys = b.ms[1:], b.lazys[1:]
	m.fromSummary(s, file, lazy)
	return m
}

// lazyRaw holds the bytes of a manifest made from a Summary until its raw
// members are first needed.
type lazyRaw struct {
	once     sync.Once
	data     string
	raw      map[string]json.RawMessage
	trailing []byte
	bom      bool
}

// members returns the raw members and the trailing white space of m,
// splitting a summary's bytes once (safe for concurrent readers).
func (m *Manifest) members() (map[string]json.RawMessage, []byte) {
	l := m.lazy
	if l == nil {
		return m.raw, m.trailing
	}
	l.once.Do(func() {
		data := []byte(l.data)
		l.bom = bytes.HasPrefix(data, bom)
		body := bytes.TrimPrefix(data, bom)
		var raw map[string]json.RawMessage
		ok := false
		if json.Valid(body) { // they parsed once; a cache is still checked
			raw, ok = splitObject(body)
		}
		if !ok {
			raw = map[string]json.RawMessage{}
		}
		l.raw, l.trailing = raw, trailingSpace(body)
	})
	return l.raw, l.trailing
}

// own makes m's raw members its own before it changes them.
func (m *Manifest) own() {
	if m.lazy != nil {
		m.raw, m.trailing = m.members()
		m.bom = m.lazy.bom
		m.lazy = nil
	}
}

// hasBOM reports whether m's file started with a byte-order mark.
func (m *Manifest) hasBOM() bool {
	if m.lazy != nil {
		m.members()
		return m.lazy.bom
	}
	return m.bom
}
