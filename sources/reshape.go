package sources

// Reshaper is implemented by sources whose payload is not laid out as a
// package folder (a gist's archive is a flat list of files, which installs
// as the manifest beside one module folder). The updater and `release
// check` extract such a payload through the renaming it returns, so that no
// caller special-cases a source kind and every safety check of extraction
// applies to the names as installed.
type Reshaper interface {
	// Reshape returns the name each entry of r's payload is extracted
	// under: it gets an entry's checked, '/'-separated name (a folder's
	// without its trailing '/') and whether it is a folder, and returns the
	// new name, or an error that rejects the archive. It returns nil when
	// r's payload is a package folder as it stands.
	Reshape(r Release) func(name string, dir bool) (string, error)
}

// RenameFor is the renaming src declares for r's payload (see Reshaper),
// nil when src does not reshape its payloads or r needs none.
func RenameFor(src Source, r Release) func(name string, dir bool) (string, error) {
	if rs, ok := src.(Reshaper); ok {
		return rs.Reshape(r)
	}
	return nil
}
