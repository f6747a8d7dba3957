package release

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/sources"
)

// Target reads the argument of `release check`. A URL (anything with
// "://", file:// included) is an update_url checked directly. A folder
// ("" is the current one) must hold a2modsource.json: a release folder
// (files only, no sub-folder: the manifest and zips, as Pack writes it) is
// checked as a filesystem update_url; a folder with sub-folders (modules)
// is a package folder, whose update_url is checked and which is compared
// with the release.
func Target(arg string) (dir, updateURL string, err error) {
	if strings.Contains(arg, "://") {
		return "", arg, nil
	}
	if arg == "" {
		arg = "."
	}
	st, err := os.Stat(arg)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w (pass a package folder, a release folder or an update_url)", arg, redact.Error(err))
	}
	if !st.IsDir() {
		return "", "", fmt.Errorf("%s is not a folder (pass a package folder, a release folder or an update_url)", arg)
	}
	if _, err := os.Stat(filepath.Join(arg, sources.ManifestFile)); errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("%s holds no %s (pass a package folder, a release folder or an update_url)", arg, sources.ManifestFile)
	}
	if isReleaseFolder(arg) {
		abs, err := filepath.Abs(arg)
		if err != nil {
			return "", "", err
		}
		return "", abs, nil
	}
	return arg, "", nil
}

// isReleaseFolder tells a release folder (files only) from a package
// folder (module sub-folders). Dot folders (.git, .modup) do not count.
func isReleaseFolder(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			return false
		}
	}
	return true
}
