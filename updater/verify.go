package updater

import (
	"errors"
	"io/fs"

	"github.com/modup/modup/pkgdir"
)

// Outcomes of Verify.
const (
	// VerifyOK: the package folder is as modup installed it.
	VerifyOK = "ok"
	// VerifyChanged: files were modified, removed or added since.
	VerifyChanged = "changed"
	// VerifyUnknown: modup has nothing to compare with (it did not
	// install the package, or it is a development checkout).
	VerifyUnknown = "not-verified"
	// VerifyError: the folder or modup's records could not be read.
	VerifyError = "error"
)

// VerifyResult is what `modup verify` says of one package: `verify
// --json`'s shape.
type VerifyResult struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Version string `json:"version,omitempty"`
	Status  string `json:"status"`
	pkgdir.Diff
	// Note says what was compared when there is no file list, or why
	// nothing was.
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
}

// Differs reports whether the package is not as modup installed it.
func (v VerifyResult) Differs() bool { return v.Status == VerifyChanged }

// Verify compares p's folder with what modup installed (the file list
// kept with its install record), file by file, as rpm -V does: modified
// (content, type or executable bit), missing and added files. A package
// modup installed before it kept file lists is compared by tree hash
// (which files changed is then unknown).
func Verify(p pkgdir.Package) VerifyResult {
	v := VerifyResult{Name: p.Name, Path: p.Dir, Version: p.Version()}
	fail := func(err error) VerifyResult {
		v.Status, v.Error = VerifyError, err.Error()
		return v
	}
	if p.Dev {
		v.Status, v.Note = VerifyUnknown, "a development checkout (.git): modup never installed it"
		return v
	}
	l := p.Layout()
	list, err := l.ReadFileList(p.Name)
	if err == nil {
		if v.Diff, err = pkgdir.Compare(p.Dir, list); err != nil {
			return fail(err)
		}
		v.Status = VerifyOK
		if !v.Empty() {
			v.Status = VerifyChanged
		}
		if list.Version != "" && list.Version != p.Version() {
			v.Note = "modup installed " + list.Version
		}
		return v
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}
	rec, err := l.ReadRecord(p.Name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.Status, v.Note = VerifyUnknown, "not installed by modup (no install record): nothing to compare with"
		return v
	case err != nil:
		return fail(err)
	case rec.TreeHash == "":
		v.Status, v.Note = VerifyUnknown, "modup did not install these files (its record only holds the package): nothing to compare with"
		return v
	}
	h, err := pkgdir.TreeHash(p.Dir)
	if err != nil {
		return fail(err)
	}
	v.Status, v.Note = VerifyOK, "no file list (installed by an older modup): compared by tree hash"
	if h != rec.TreeHash {
		v.Status, v.Note = VerifyChanged, "no file list (installed by an older modup): its tree hash differs, which files is unknown"
	}
	return v
}
