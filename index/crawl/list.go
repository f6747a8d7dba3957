package crawl

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources/fs"
)

// maxSourcesFile bounds a sources file (a million lines of URLs is far
// below).
const maxSourcesFile = 64 << 20

// ReadSources reads a sources file: one update_url per line, as packages
// carry them, `#` comments and blank lines ignored. A folder path is
// relative to the file's folder and is recorded as an absolute path. A
// line that is not an update_url is an error naming file:line. Repeated
// URLs are kept once, in the order first seen.
func ReadSources(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sources: %w", err)
	}
	if len(data) > maxSourcesFile {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a sources file", path, maxSourcesFile)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	base, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		u, err := sourceLine(line, base)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

var driveLetter = regexp.MustCompile(`^[A-Za-z]:[\\/]`)

// sourceLine checks one line of a sources file and returns the update_url
// to record.
func sourceLine(line, base string) (string, error) {
	bad := func(why string) error {
		return fmt.Errorf("%q is not an update_url: %s (want https://github.com/OWNER/REPO, an https:// folder URL, a folder path that is absolute or starts with ./ or ../, or a file:// URL)", line, why)
	}
	if strings.IndexFunc(line, unicode.IsControl) >= 0 {
		return "", bad("it holds control characters")
	}
	lower := strings.ToLower(line)
	switch {
	case strings.HasPrefix(lower, "https://"), strings.HasPrefix(lower, "http://"):
		if strings.ContainsAny(line, " \t") {
			return "", bad("a URL holds no spaces")
		}
		u, err := url.Parse(line)
		if err != nil || u.Host == "" {
			return "", bad("the URL names no host")
		}
		if u.User != nil {
			return "", errCredentials(u)
		}
		return line, nil
	case strings.HasPrefix(lower, "file://"):
		p, err := fs.Folder(line, base)
		if err != nil {
			return "", bad(err.Error())
		}
		return p, nil
	case strings.Contains(line, "://"):
		return "", bad("modup reads https, http and file URLs only")
	case filepath.IsAbs(line), driveLetter.MatchString(line), strings.HasPrefix(line, "/"),
		strings.HasPrefix(line, "./"), strings.HasPrefix(line, "../"),
		strings.HasPrefix(line, `.\`), strings.HasPrefix(line, `..\`):
		p, err := fs.Folder(line, base)
		if err != nil {
			return "", bad(err.Error())
		}
		return p, nil
	default:
		return "", bad("a relative folder path must start with ./ or ../, and a URL with https://")
	}
}

// FromRoot lists the update_urls of a root's packages (those that have
// one), folder paths made absolute against each package's folder, so a
// machine can publish an index of what it has installed. Packages whose
// manifest cannot be read are returned as errors; the others are listed.
func FromRoot(root string) ([]string, []error, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, nil, err
	}
	pkgs, err := pkgdir.ScanRoot(abs)
	if err != nil {
		return nil, nil, err
	}
	var out []string
	var bad []error
	seen := map[string]bool{}
	for _, p := range pkgs {
		if p.Err != nil {
			bad = append(bad, p.Err)
			continue
		}
		u := strings.TrimSpace(p.Manifest.UpdateURL)
		if u == "" {
			continue
		}
		if pu, err := url.Parse(u); err == nil && pu.User != nil {
			bad = append(bad, fmt.Errorf("%s: %w", p.Name, errCredentials(pu)))
			continue
		}
		if fs.Match(u) {
			abs, err := fs.Folder(u, p.Dir)
			if err != nil {
				bad = append(bad, fmt.Errorf("%s: %w", p.Name, err))
				continue
			}
			u = abs
		}
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out, bad, nil
}

// errCredentials refuses an update_url carrying a user name or password:
// an index publishes its update_urls.
func errCredentials(u *url.URL) error {
	return fmt.Errorf("%s holds credentials (user:password@), which the index would publish in its documents; index a URL without them", u.Redacted())
}
