package release

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/modup/modup/internal/archive"
	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/resolve"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/github"
	"github.com/modup/modup/updater"
)

// Status is the outcome of one step of a release check.
type Status string

// Step statuses.
const (
	Pass Status = "pass"
	Fail Status = "fail" // users' updates break: Report.OK is false
	Warn Status = "warn" // worth fixing; updates still work
	Skip Status = "skip" // not applicable, or an earlier step failed
)

// Step names, in the order of the report.
const (
	StepManifest     = "manifest"      // the remote manifest is reachable and valid JSON
	StepVersion      = "version"       // its version is semver
	StepRequirements = "requirements"  // its requirement fields parse and this modup reads them
	StepRelease      = "release"       // a release of that version is published
	StepDownload     = "download"      // the payload downloads within limits
	StepArchive      = "archive"       // the zip is safe to extract
	StepZipManifest  = "zip-manifest"  // the zip's a2modsource.json names the same version
	StepChecksum     = "checksum"      // declared sha256 and zip_size match
	StepSignature    = "signature"     // the signature verifies with the manifest's public_key
	StepModules      = "modules"       // every a2module.json parses
	StepNewerRelease = "newer-release" // GitHub: no published release newer than the manifest
	StepLocalCopy    = "local-copy"    // the local package is not ahead of the release
)

// Step is one line of a release check.
type Step struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Hint   string `json:"hint"`
}

// Report is a whole release check: `release check --json`'s shape.
type Report struct {
	Steps []Step `json:"checks"`
	OK    bool   `json:"ok"`
}

// CheckOptions say what to check.
type CheckOptions struct {
	// Sources are the update sources, as users' modup has them.
	Sources *updater.Sources
	// Dir is a local package folder: its manifest's update_url is checked,
	// and the folder is compared with what is published. Empty to check
	// UpdateURL alone.
	Dir string
	// UpdateURL is checked directly when Dir is empty.
	UpdateURL string
	// MaxSize caps the download (default updater.DefaultMaxSize).
	MaxSize int64
	// TempDir is where the throw-away download folder is made ("" = the
	// system's). It is removed before Check returns.
	TempDir string
}

// Check runs the client side of an update against the published release
// (read the manifest, resolve the release, download, verify, extract into a
// throw-away folder) and reports every step. It installs nothing and
// leaves no file behind.
func Check(ctx context.Context, opt CheckOptions) Report {
	c := &checker{opt: opt, steps: map[string]*Step{}}
	c.run(ctx)
	rep := Report{OK: true}
	for _, name := range stepOrder {
		s, ok := c.steps[name]
		if !ok {
			s = &Step{Name: name, Status: Skip, Detail: c.skipWhy}
		}
		if s.Status == Fail {
			rep.OK = false
		}
		rep.Steps = append(rep.Steps, *s)
	}
	return rep
}

var stepOrder = []string{StepManifest, StepVersion, StepRequirements, StepRelease, StepDownload, StepArchive,
	StepZipManifest, StepChecksum, StepSignature, StepModules, StepNewerRelease, StepLocalCopy}

// checker carries what one step learns to the next.
type checker struct {
	opt     CheckOptions
	steps   map[string]*Step
	skipWhy string // detail of the steps never reached

	q       sources.Query
	src     sources.Source
	local   *manifest.Manifest // the package's own manifest (Dir given)
	dirName string             // how hints name the package folder

	latest     sources.Release // what the remote manifest says
	comparable bool            // latest.Version is a version modup compares
	rel        sources.Release // the resolved release
	zipPath    string
	zipSHA     string
	zipSize    int64
	retry      bool   // the download failed in a way that may pass later
	root       string // the extracted package
	sig        []byte // the release's signature as fetched (nil when none)
}

func (c *checker) set(name string, st Status, detail, hint string) {
	// Details quote URLs: never their credentials.
	c.steps[name] = &Step{Name: name, Status: st, Detail: redact.Text(detail), Hint: redact.Text(hint)}
}

func (c *checker) maxSize() int64 {
	if c.opt.MaxSize > 0 {
		return c.opt.MaxSize
	}
	return updater.DefaultMaxSize
}

func (c *checker) run(ctx context.Context) {
	if !c.target() {
		c.skipWhy = "no manifest to check"
		return
	}
	if !c.checkManifest(ctx) {
		c.skipWhy = "the remote manifest could not be read"
		return
	}
	c.checkVersion()
	c.checkRequirements()
	c.checkNewerRelease(ctx)
	c.checkLocalVersion()
	if !c.checkRelease(ctx) {
		c.skipWhy = "no release to download"
		return
	}
	tmp, err := os.MkdirTemp(c.opt.TempDir, "modup-release-check-*")
	if err != nil {
		c.set(StepDownload, Fail, fmt.Sprintf("make a temporary folder: %v", err), "")
		c.skipWhy = "nothing downloaded"
		return
	}
	defer os.RemoveAll(tmp)
	if c.payloadSteps(ctx, tmp) {
		c.checkLocalContent(ctx, tmp)
	}
}

// payloadSteps are the steps that need the payload: download, checksum,
// signature, archive, zip-manifest and modules. It reports whether the package was
// extracted (into dir/extracted).
func (c *checker) payloadSteps(ctx context.Context, dir string) bool {
	if !c.download(ctx, dir) {
		c.skipWhy = "nothing downloaded"
		return false
	}
	c.checkChecksum()
	c.checkSignature(ctx)
	if !c.extract(ctx, dir) {
		c.skipWhy = "the archive could not be extracted"
		return false
	}
	c.checkZipManifest()
	c.checkModules()
	return true
}

// PayloadCheck says which payload VerifyPayload checks.
type PayloadCheck struct {
	// Source is the source that resolved Release.
	Source sources.Source
	// Want is the version as its manifest names it: Version and Name,
	// with the sha256, zip_size and requirements the pointer manifest
	// declares when it names this version (the pointer's Release, Origin
	// "manifest"); otherwise only Version and Name, and nothing is
	// compared with what the zip's manifest declares.
	Want sources.Release
	// Release is the resolved release: payload URL, tag, digest.
	Release sources.Release
	// Dir is an empty folder the caller owns and removes: the zip and the
	// extracted package are put there.
	Dir string
	// MaxSize caps the download (default updater.DefaultMaxSize).
	MaxSize int64
	// DirName is how hints name the package folder ("DIR" when empty).
	DirName string
}

// PayloadResult is what VerifyPayload found.
type PayloadResult struct {
	// Steps are the payload steps reached (download, checksum, signature,
	// archive, zip-manifest, modules), in the order of a release check. A step not
	// reached is left out.
	Steps []Step
	// Zip is the downloaded zip inside Dir, "" when the download failed;
	// SHA256 and Size describe it.
	Zip    string
	SHA256 string
	Size   int64
	// Root is the extracted package inside Dir, "" when extraction failed.
	Root string
	// Signature is the release's detached signature as the source served
	// it (at most sources.MaxSignatureSize bytes), nil when it has none;
	// the signature step says whether it verified.
	Signature []byte
	// Retry is set when the download failed in a way that asking again
	// later may cure (the network, the server), as opposed to a payload
	// that is too large.
	Retry bool
}

// VerifyPayload runs the steps of a release check that look at the
// payload, with the same checks users' modup makes: it downloads the
// release's zip into pc.Dir within the size cap, compares it with the
// declared sha256 and zip_size, extracts it safely and reads its manifest
// and modules. The index crawler records each version's problems from it.
func VerifyPayload(ctx context.Context, pc PayloadCheck) PayloadResult {
	c := &checker{
		opt:     CheckOptions{MaxSize: pc.MaxSize},
		steps:   map[string]*Step{},
		src:     pc.Source,
		dirName: cmpOr(pc.DirName, "DIR"),
		latest:  pc.Want,
		rel:     pc.Release,
	}
	extracted := c.payloadSteps(ctx, pc.Dir)
	res := PayloadResult{Zip: c.zipPath, SHA256: c.zipSHA, Size: c.zipSize, Retry: c.retry, Signature: c.sig}
	if extracted {
		res.Root = c.root
	}
	for _, name := range stepOrder {
		if s, ok := c.steps[name]; ok && name != StepLocalCopy && name != StepNewerRelease {
			res.Steps = append(res.Steps, *s)
		}
	}
	return res
}

// target settles what is checked: the Dir's update_url, or UpdateURL.
func (c *checker) target() bool {
	c.dirName = "DIR"
	if c.opt.Dir != "" {
		c.dirName = c.opt.Dir
		m, err := pkgdir.ReadManifest(c.opt.Dir)
		if err != nil {
			c.set(StepManifest, Fail, "the package's own manifest: "+firstLine(err), syntaxHint(err))
			c.requirementErrors(err)
			return false
		}
		c.local = m
		if strings.TrimSpace(m.UpdateURL) == "" {
			c.set(StepManifest, Fail, filepath.Join(c.opt.Dir, pkgdir.ManifestFile)+" has no update_url: users can never update this package",
				"set update_url to where releases are published: https://github.com/OWNER/REPO, a web folder, or a folder path")
			return false
		}
		name := m.Name
		if abs, err := filepath.Abs(c.opt.Dir); err == nil && strings.TrimSpace(name) == "" {
			name = filepath.Base(abs)
		}
		c.q = sources.Query{Package: name, UpdateURL: m.UpdateURL, Dir: c.opt.Dir, MainBranch: m.MainBranch}
	} else {
		c.q = sources.Query{Package: c.opt.UpdateURL, UpdateURL: c.opt.UpdateURL}
	}
	src, err := c.opt.Sources.Registry.For(c.q.UpdateURL)
	if err != nil {
		c.set(StepManifest, Fail, err.Error(), "")
		return false
	}
	c.src = src
	return true
}

func cmpOr(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

func (c *checker) kind() string { return c.src.Kind() }

// (1) The remote manifest is reachable and valid JSON.
func (c *checker) checkManifest(ctx context.Context) bool {
	latest, err := c.src.Latest(ctx, c.q)
	if err != nil {
		hint := syntaxHint(err)
		switch {
		case hint != "":
		case errors.Is(err, sources.ErrNotFound):
			if c.kind() == github.Kind {
				hint = "push a2modsource.json to the repository's default branch (or name its branch in main_branch)"
			} else {
				hint = "publish a2modsource.json at the update_url: `modup pack` writes it into the release folder"
			}
		case errors.Is(err, sources.ErrInsecure):
			hint = "use https, or pass --allow-http"
		case errors.Is(err, sources.ErrInvalid):
			hint = "the update_url must serve the release's a2modsource.json itself"
		case errors.Is(err, sources.ErrRateLimited):
			hint = "try again later"
		default:
			hint = "check the update_url and the connection"
		}
		c.set(StepManifest, Fail, firstLine(err), hint)
		c.requirementErrors(err)
		return false
	}
	c.latest = latest
	c.set(StepManifest, Pass, fmt.Sprintf("%s names %s %s", latest.ManifestURL, cmpOr(latest.Name, "(no name)"), latest.Version), "")
	return true
}

// syntaxHint points at the line and column of a JSON error, "" for others.
func syntaxHint(err error) string {
	var se *manifest.SyntaxError
	if !errors.As(err, &se) {
		return ""
	}
	if se.Key != "" {
		return fmt.Sprintf("fix %s at line %d, column %d (see the requirements step)", se.Key, se.Line, se.Col)
	}
	if se.Line > 0 {
		return fmt.Sprintf("fix the JSON at line %d, column %d (a2 and modup read strict JSON: no trailing commas, no comments, no duplicate keys)", se.Line, se.Col)
	}
	return "fix the field named in the error"
}

// (2) Its version is semver.
func (c *checker) checkVersion() {
	v := c.latest.Version
	pv, err := updater.ParseVersion(v)
	if err != nil {
		c.set(StepVersion, Fail, err.Error(), "set version to MAJOR.MINOR.PATCH like 1.2.0: modup never installs a version it cannot compare")
		return
	}
	c.comparable = true
	if _, err := semver.StrictNewVersion(v); err != nil {
		c.set(StepVersion, Warn, fmt.Sprintf("%q is read as %s", v, pv), fmt.Sprintf("write it as %s", pv))
		return
	}
	c.set(StepVersion, Pass, v, "")
}

// constraintHelp says how constraints are written.
const constraintHelp = `constraints use Composer's syntax: ">= 1.2", "^1.2", "~1.2", "1.2.*", "1.0 - 2.0", "*"; AND with a space or a comma, OR with "||"`

// requirementErrors fails the requirements step with every problem of
// the requirement fields in err (a manifest that did not parse for them).
func (c *checker) requirementErrors(err error) {
	var bad []string
	for _, se := range manifest.SyntaxErrors(err) {
		if se.Key != "" {
			bad = append(bad, se.Error())
		}
	}
	if len(bad) == 0 {
		return
	}
	c.set(StepRequirements, Fail, strings.Join(bad, "; "), "fix each of them: "+constraintHelp+
		"; requires.platform takes os and arch in Go's names (windows, linux, darwin; amd64, arm64, 386)")
}

// firstLine is an error's first line (a manifest's requirement problems
// come one a line; the requirements step lists them all).
func firstLine(err error) string {
	s, rest, _ := strings.Cut(err.Error(), "\n")
	if rest != "" {
		s += fmt.Sprintf(" (and %d more)", strings.Count(rest, "\n")+1)
	}
	return s
}

func orNothing(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// (2b) The requirement fields: this modup reads them, and they make sense.
// The remote manifest's are what every modup sees before it downloads.
func (c *checker) checkRequirements() {
	rel := c.latest
	r := rel.Requirements
	if rel.ManifestVersion > manifest.SupportedVersion {
		c.set(StepRequirements, Fail, fmt.Sprintf("manifest_version %d %s (this one reads up to %d)", rel.ManifestVersion, manifest.ErrNewerManifest, manifest.SupportedVersion),
			fmt.Sprintf("users' modup refuses to install it; write \"manifest_version\": %d unless the package needs what a newer modup reads", manifest.SupportedVersion))
		return
	}
	if r.IsZero() {
		c.set(StepRequirements, Pass, "declares no requirements (any host version, any platform)", "")
		return
	}
	var odd []string
	self := strings.TrimSpace(rel.Name)
	for _, f := range []struct {
		what string
		m    map[string]resolve.Constraint
	}{{"requires", r.Packages}, {"conflicts with", r.Conflicts}, {"breaks", r.Breaks}, {"replaces", r.Replaces}, {"recommends", r.Recommends}, {"suggests", r.Suggests}} {
		if _, ok := f.m[self]; ok && self != "" {
			odd = append(odd, fmt.Sprintf("it %s itself", f.what))
		}
	}
	if slices.Contains(r.Provides, self) && self != "" {
		odd = append(odd, "it provides its own name")
	}
	for _, q := range slices.Sorted(maps.Keys(r.Packages)) {
		if _, ok := r.Conflicts[q]; ok {
			odd = append(odd, fmt.Sprintf("it both requires and conflicts with %s", q))
		}
	}
	switch {
	case len(odd) > 0:
		c.set(StepRequirements, Warn, r.String()+": "+strings.Join(odd, "; "), "drop the entries that name the package itself or contradict each other")
	case rel.ManifestVersion < 2:
		c.set(StepRequirements, Warn, r.String()+", without \"manifest_version\": 2",
			"add \"manifest_version\": 2 to a2modsource.json: it says the file uses the requirement fields")
	default:
		c.set(StepRequirements, Pass, r.String(), "")
	}
}

// (3) A release of that version is published.
func (c *checker) checkRelease(ctx context.Context) bool {
	want := c.latest
	// The declared digest and size are compared by the checksum step, not
	// by the source, so that a stale one is reported as what it is.
	want.SHA256, want.Size = "", 0
	rel, err := c.src.Resolve(ctx, c.q, want)
	v := c.latest.Version
	if err != nil {
		hint := ""
		if errors.Is(err, sources.ErrUnreleased) {
			switch c.kind() {
			case github.Kind:
				hint = fmt.Sprintf("publish a release tagged %s (a draft does not count) with %s from `modup pack` attached, or set the manifest back to the released version", v, sources.ZipName(v))
			default:
				hint = fmt.Sprintf("upload %s next to a2modsource.json (upload the zip first, then the manifest), or set the manifest back to the released version", sources.ZipName(v))
			}
		}
		c.set(StepRelease, Fail, err.Error(), hint)
		return false
	}
	c.rel = rel
	switch {
	case rel.Origin == github.OriginTagArchive:
		c.set(StepRelease, Warn, fmt.Sprintf("tag %s exists, but the release could not be confirmed (GitHub API unavailable)", rel.Tag),
			"set GITHUB_TOKEN and check again")
	case c.kind() == github.Kind && c.tagArchive():
		c.set(StepRelease, Pass, fmt.Sprintf("release %s is published; payload: the tag archive (no %s attached)", rel.Tag, sources.ZipName(v)), "")
	case c.kind() == github.Kind:
		c.set(StepRelease, Pass, fmt.Sprintf("release %s is published with %s attached", rel.Tag, rel.Extra["asset"]), "")
	default:
		c.set(StepRelease, Pass, rel.PayloadURL+" exists", "")
	}
	if rel.Prerelease {
		c.steps[StepRelease].Detail += " (marked pre-release)"
	}
	return true
}

func (c *checker) tagArchive() bool { return c.rel.Extra["payload"] == "tag-archive" }

// (4) The payload downloads within limits: the same cap and stall
// watchdog users' modup applies.
func (c *checker) download(ctx context.Context, tmp string) bool {
	max := c.maxSize()
	fail := func(detail, hint string) bool {
		c.set(StepDownload, Fail, detail, hint)
		return false
	}
	tooBig := fmt.Sprintf("users' modup refuses a zip larger than its --max-size (default %d bytes); split the package or raise --max-size", updater.DefaultMaxSize)
	if c.rel.Size > max {
		return fail(fmt.Sprintf("%s is %d bytes, more than the cap of %d", c.rel.PayloadURL, c.rel.Size, max), tooBig)
	}
	p, err := c.src.Open(ctx, c.rel)
	if err != nil {
		c.retry = true
		return fail(err.Error(), "check that the zip is readable at its URL")
	}
	defer p.Body.Close()
	if p.Size > max {
		return fail(fmt.Sprintf("%s announces %d bytes, more than the cap of %d", c.rel.PayloadURL, p.Size, max), tooBig)
	}
	f, err := os.CreateTemp(tmp, "payload-*.zip")
	if err != nil {
		c.retry = true
		return fail(err.Error(), "")
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(p.Body, max+1))
	switch {
	case errors.Is(err, httpx.ErrStalled):
		c.retry = true
		return fail(err.Error(), "the server stopped sending data; users' downloads will stall too")
	case err != nil:
		c.retry = true
		return fail(fmt.Sprintf("download %s: %v", c.rel.PayloadURL, err), "")
	case n > max:
		return fail(fmt.Sprintf("%s is larger than the cap of %d bytes", c.rel.PayloadURL, max), tooBig)
	case p.Size >= 0 && n != p.Size:
		c.retry = true
		return fail(fmt.Sprintf("got %d of the %d bytes announced by %s", n, p.Size, c.rel.PayloadURL), "the server cut the download short")
	}
	if err := f.Close(); err != nil {
		return fail(err.Error(), "")
	}
	c.zipPath, c.zipSHA, c.zipSize = f.Name(), hex.EncodeToString(h.Sum(nil)), n
	c.set(StepDownload, Pass, fmt.Sprintf("%d bytes from %s", n, c.rel.PayloadURL), "")
	return true
}

// (5) The archive is safe: extracted with every check users' modup makes,
// into the throw-away folder.
func (c *checker) extract(ctx context.Context, tmp string) bool {
	dest := filepath.Join(tmp, "extracted")
	if err := os.Mkdir(dest, 0o755); err != nil {
		c.set(StepArchive, Fail, err.Error(), "")
		return false
	}
	res, err := archive.ExtractFile(ctx, c.zipPath, dest, archive.Options{Rename: sources.RenameFor(c.src, c.rel)})
	if err != nil {
		detail := strings.ReplaceAll(err.Error(), c.zipPath, c.rel.PayloadURL)
		hint := "rebuild the zip with `modup pack`"
		switch {
		case errors.Is(err, archive.ErrNoManifest):
			hint = "the zip must hold the package's files, a2modsource.json included: build it with `modup pack`"
			c.set(StepZipManifest, Fail, "the zip holds no a2modsource.json", hint)
		case errors.Is(err, archive.ErrHostile):
			hint = "every modup refuses this zip; " + hint
		case errors.Is(err, archive.ErrCorrupt):
			hint = "the zip is damaged (a partial upload?): upload it again, or " + hint
		default:
			// Not the archive's fault: a cancelled check, a full disk.
			c.retry = true
		}
		c.set(StepArchive, Fail, detail, hint)
		return false
	}
	c.root = res.Root
	where := ""
	if rel, err := filepath.Rel(dest, res.Root); err == nil && rel != "." {
		where = fmt.Sprintf(" (package in folder %s/)", filepath.ToSlash(rel))
	}
	c.set(StepArchive, Pass, fmt.Sprintf("%d files, %d bytes, safe to extract%s", res.Files, res.Bytes, where), "")
	return true
}

// (6) The zip's own manifest names the release's version.
func (c *checker) checkZipManifest() {
	zm, err := pkgdir.ReadManifest(c.root)
	if err != nil {
		c.set(StepZipManifest, Fail, "the zip's "+strings.ReplaceAll(err.Error(), c.root+string(filepath.Separator), ""), syntaxHint(err))
		return
	}
	v := c.latest.Version
	if cmp, err := updater.CompareVersions(zm.Version, v); err != nil || cmp != 0 {
		detail := fmt.Sprintf("the zip's a2modsource.json says %s but the release is %s", orNone(zm.Version), v)
		hint := fmt.Sprintf("run `modup pack %s --version %s` and re-upload", c.dirName, v)
		if c.tagArchive() {
			hint = fmt.Sprintf("the tag's a2modsource.json was not bumped: run `modup pack %s --version %s` and attach %s to release %s (an attached zip wins over the tag archive)",
				c.dirName, v, sources.ZipName(v), c.rel.Tag)
		}
		c.set(StepZipManifest, Fail, detail, hint)
		return
	}
	// Requirements are compared with the remote manifest's only when it
	// names this version (VerifyPayload checks older versions too).
	if got, want := zm.Requirements.String(), c.latest.Requirements.String(); c.latest.Origin == "manifest" && (got != want || zm.ManifestVersion != c.latest.ManifestVersion) {
		c.set(StepZipManifest, Warn, fmt.Sprintf("version %s, but the zip's a2modsource.json declares other requirements (%s) than the remote manifest (%s)", zm.Version, orNothing(got), orNothing(want)),
			"upload the a2modsource.json and the zip `modup pack` wrote together: checks read the remote manifest's requirements, the installed package keeps the zip's")
		return
	}
	if c.latest.Name != "" && zm.Name != "" && zm.Name != c.latest.Name {
		c.set(StepZipManifest, Warn, fmt.Sprintf("version %s, but the zip's manifest names the package %q and the remote manifest %q", zm.Version, zm.Name, c.latest.Name),
			"use one name in both: users' folders are named after the remote manifest's")
		return
	}
	c.set(StepZipManifest, Pass, "the zip's a2modsource.json says "+zm.Version, "")
}

func orNone(v string) string {
	if v == "" {
		return "no version"
	}
	return v
}

// (7) The declared sha256 and zip_size match what was downloaded.
func (c *checker) checkChecksum() {
	declSHA := strings.ToLower(strings.TrimSpace(c.latest.SHA256))
	declSize := c.latest.Size
	v := c.latest.Version
	if c.tagArchive() {
		if declSHA != "" || declSize > 0 {
			c.set(StepChecksum, Warn, fmt.Sprintf("a2modsource.json declares sha256/zip_size, but release %s has no %s attached: GitHub builds the tag archive itself, so they describe nothing", c.rel.Tag, sources.ZipName(v)),
				"attach the zip `modup pack` writes to the release, or drop sha256 and zip_size from the manifest")
			return
		}
		c.set(StepChecksum, Skip, "a tag archive: GitHub builds it, nothing is declared to compare", "")
		return
	}
	var bad []string
	if declSHA != "" && declSHA != c.zipSHA {
		bad = append(bad, fmt.Sprintf("a2modsource.json declares sha256 %s but the zip's is %s", short(declSHA), short(c.zipSHA)))
	}
	if declSize > 0 && declSize != c.zipSize {
		bad = append(bad, fmt.Sprintf("a2modsource.json declares zip_size %d but the zip is %d bytes", declSize, c.zipSize))
	}
	if digest := strings.ToLower(c.rel.SHA256); digest != "" && digest != c.zipSHA {
		bad = append(bad, fmt.Sprintf("GitHub's digest of %s is %s but the download's is %s", c.rel.Extra["asset"], short(digest), short(c.zipSHA)))
	}
	if len(bad) > 0 {
		c.set(StepChecksum, Fail, strings.Join(bad, "; "),
			"the manifest and the zip come from different packs: upload the a2modsource.json and the zip `modup pack` wrote together")
		return
	}
	switch {
	case declSHA != "" || declSize > 0:
		var what []string
		if declSHA != "" {
			what = append(what, "sha256 "+short(declSHA))
		}
		if declSize > 0 {
			what = append(what, fmt.Sprintf("zip_size %d", declSize))
		}
		c.set(StepChecksum, Pass, strings.Join(what, " and ")+" match", "")
	case c.rel.SHA256 != "":
		c.set(StepChecksum, Pass, "matches GitHub's sha256 digest of "+c.rel.Extra["asset"], "")
	default:
		c.set(StepChecksum, Warn, "a2modsource.json declares neither sha256 nor zip_size: users' modup cannot verify the download",
			"`modup pack` writes both into the release's a2modsource.json")
	}
}

// (8) Every module's a2module.json parses.
func (c *checker) checkModules() {
	mods, err := pkgdir.Modules(c.root)
	if err != nil {
		c.set(StepModules, Fail, err.Error(), "")
		return
	}
	var bad, names []string
	for _, m := range mods {
		names = append(names, m.Name)
		if m.Err != nil {
			bad = append(bad, strings.ReplaceAll(m.Err.Error(), c.root+string(filepath.Separator), ""))
		}
	}
	switch {
	case len(bad) > 0:
		c.set(StepModules, Fail, strings.Join(bad, "; "), "fix the JSON of those a2module.json files and pack again")
	case len(mods) == 0:
		c.set(StepModules, Warn, "the package holds no module (a sub-folder with an a2module.json)", "put each module in its own folder with an a2module.json")
	default:
		c.set(StepModules, Pass, fmt.Sprintf("%d module(s) parse: %s", len(mods), listSome(names)), "")
	}
}

func listSome(names []string) string {
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + fmt.Sprintf(", … (%d more)", len(names)-5)
	}
	return strings.Join(names, ", ")
}

// (9) GitHub: no published release is newer than the manifest. Such a
// release was made without bumping the manifest, and users never see it.
func (c *checker) checkNewerRelease(ctx context.Context) {
	lister, ok := c.src.(sources.Lister)
	if !ok {
		c.set(StepNewerRelease, Skip, "only for sources that list their releases (GitHub)", "")
		return
	}
	if !c.comparable {
		c.set(StepNewerRelease, Skip, "the manifest's version cannot be compared", "")
		return
	}
	rels, err := lister.Versions(ctx, c.q)
	if err != nil {
		c.set(StepNewerRelease, Warn, "could not list the releases: "+err.Error(), "set GITHUB_TOKEN and check again")
		return
	}
	var newest string
	for _, r := range rels {
		if r.Prerelease {
			continue // pre-releases may run ahead of the manifest on purpose
		}
		if cmp, err := updater.CompareVersions(r.Version, c.latest.Version); err == nil && cmp > 0 {
			if newest == "" {
				newest = r.Version
			} else if cmp, err := updater.CompareVersions(r.Version, newest); err == nil && cmp > 0 {
				newest = r.Version
			}
		}
	}
	if newest != "" {
		c.set(StepNewerRelease, Fail,
			fmt.Sprintf("release %s is published but a2modsource.json on %s says %s", newest, c.branchName(), c.latest.Version),
			fmt.Sprintf("bump the manifest: set version to %s (`modup pack %s --version %s` or by hand), commit and push; until then users are offered %s",
				newest, c.dirName, newest, c.latest.Version))
		return
	}
	c.set(StepNewerRelease, Pass, fmt.Sprintf("no published release is newer than %s (%d release(s))", c.latest.Version, len(rels)), "")
}

// branchName is how messages name the branch the manifest is read from.
func (c *checker) branchName() string {
	if _, b, ok := strings.Cut(c.q.UpdateURL, "/tree/"); ok && b != "" {
		return "branch " + strings.TrimRight(b, "/")
	}
	if b := strings.TrimSpace(c.q.MainBranch); b != "" {
		return "branch " + b
	}
	return "the default branch"
}

// (10) The local package folder is not newer than what is published: an
// author testing a local copy ahead of the release sees what no user has.
func (c *checker) checkLocalVersion() {
	if c.local == nil {
		c.set(StepLocalCopy, Skip, "no local package folder given", "")
		return
	}
	lv, pv := c.local.Version, c.latest.Version
	cmp, err := updater.CompareVersions(lv, pv)
	switch {
	case err != nil:
		c.set(StepLocalCopy, Warn, fmt.Sprintf("the local copy says %s, the release %s: %v", orNone(lv), pv, err), "")
	case cmp > 0:
		c.set(StepLocalCopy, Warn,
			fmt.Sprintf("the local copy says %s, newer than the published %s: users get %s", lv, pv, pv),
			fmt.Sprintf("publish %s (`modup pack %s`, then upload), and test updates against the published release, not the local copy", lv, c.dirName))
	case cmp < 0:
		c.set(StepLocalCopy, Warn,
			fmt.Sprintf("the local copy says %s, older than the published %s", lv, pv),
			"bring the local copy up to date before the next release")
	default:
		c.set(StepLocalCopy, Pass, fmt.Sprintf("the local copy says %s, as published", lv), "")
	}
}

// checkLocalContent refines a passing local-copy step: the same version
// with other files is a change released under an old version number.
func (c *checker) checkLocalContent(ctx context.Context, tmp string) {
	s := c.steps[StepLocalCopy]
	if c.local == nil || s == nil || s.Status != Pass {
		return
	}
	diff, err := compareTrees(ctx, c.opt.Dir, c.root, tmp)
	if err != nil {
		s.Detail += fmt.Sprintf(" (files not compared: %v)", err)
		return
	}
	if len(diff) == 0 {
		s.Detail += ", with the same files"
		return
	}
	c.set(StepLocalCopy, Warn,
		fmt.Sprintf("the local copy says %s, as published, but its files differ: %s", c.local.Version, listSome(diff)),
		fmt.Sprintf("release the changes as a new version: `modup pack %s --bump patch`, then upload", c.dirName))
}

// compareTrees lists the files that differ between the package folders a
// and b, as Pack sees them (same exclusions); a2modsource.json is left out.
func compareTrees(ctx context.Context, a, b, tmp string) ([]string, error) {
	ea, err := packedEntries(ctx, a, tmp)
	if err != nil {
		return nil, err
	}
	eb, err := packedEntries(ctx, b, tmp)
	if err != nil {
		return nil, err
	}
	var diff []string
	for name, fa := range ea {
		fb, ok := eb[name]
		switch {
		case !ok:
			diff = append(diff, name+" (only local)")
		case fa != fb:
			diff = append(diff, name+" (changed)")
		}
	}
	for name := range eb {
		if _, ok := ea[name]; !ok {
			diff = append(diff, name+" (only published)")
		}
	}
	slices.Sort(diff)
	return diff, nil
}

// packedFile is what tells two packed files apart.
type packedFile struct {
	crc  uint32
	size uint64
	mode fs.FileMode
}

// packedEntries packs dir as Pack would, without its manifest, into a
// temporary file under tmp, and lists the files.
func packedEntries(ctx context.Context, dir, tmp string) (map[string]packedFile, error) {
	f, err := os.CreateTemp(tmp, "compare-*.zip")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	_, err = archive.Pack(ctx, f, dir, archive.PackOptions{
		Exclude: func(rel string, isDir bool) bool { return rel == archive.ManifestName },
	})
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		return nil, err
	}
	out := map[string]packedFile{}
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, "/") {
			continue
		}
		out[zf.Name] = packedFile{crc: zf.CRC32, size: zf.UncompressedSize64, mode: zf.Mode()}
	}
	return out, nil
}
