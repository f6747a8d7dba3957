package updater

import (
	"strings"

	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/resolve"
	"github.com/modup/modup/sources"
)

// Status is what modup knows about a package; the same values appear in
// `check --json`, `update --json`, `status` and the daemon's logs.
type Status string

// Check statuses.
const (
	// StatusUpToDate: the installed version is the one the author points to.
	StatusUpToDate Status = "up-to-date"
	// StatusUpdateAvailable: a newer version is released and downloadable.
	StatusUpdateAvailable Status = "update-available"
	// StatusRemoteOlder: the installed copy is newer than the release (a
	// local development copy); never offered as an update.
	StatusRemoteOlder Status = "remote-older"
	// StatusUnreleased: the manifest names a newer version that has no
	// published release yet; nothing to download.
	StatusUnreleased Status = "unreleased"
	// StatusLocal: the package has no update_url.
	StatusLocal Status = "local"
	// StatusDev: the package folder is a git checkout; never updated.
	StatusDev Status = "dev"
	// StatusError: the package could not be checked.
	StatusError Status = "error"
	// StatusSignatureInvalid: a newer release is published, but its
	// signature is missing, made by a key that is not trusted, or names
	// another package, version or zip; it will not be installed.
	StatusSignatureInvalid Status = "signature-invalid"
	// StatusHeldBack: a newer version is released but its requirements
	// are not met here (Reason says why); Available is then the newest
	// version that fits, which update installs, or empty.
	StatusHeldBack Status = "held-back"
	// StatusHeld: the package is held (`modup hold`): update --all and the
	// daemon leave it as it is. Also the outcome of `modup hold`.
	StatusHeld Status = "held"
)

// Update statuses.
const (
	StatusUpdated     Status = "updated"
	StatusSkipped     Status = "skipped"
	StatusFailed      Status = "failed"
	StatusWouldUpdate Status = "would-update"
	// StatusWouldInstall: install --dry-run, for a package not installed yet.
	StatusWouldInstall Status = "would-install"
	StatusInstalled    Status = "installed"
	StatusRolledBack   Status = "rolled-back"
	// StatusRolledForward: a rollback restored a backup newer than the
	// version it replaced (the backup an earlier rollback made).
	StatusRolledForward Status = "rolled-forward"
	StatusRemoved       Status = "removed"
	StatusUnheld        Status = "unheld"
)

// Result is the outcome of checking or changing one package.
type Result struct {
	Name      string `json:"name"`
	Path      string `json:"path,omitempty"`
	Installed string `json:"installed,omitempty"`
	Available string `json:"available,omitempty"`
	Status    Status `json:"status"`
	Source    string `json:"source,omitempty"`
	// Repository is the repository whose index answered (a package
	// installed from one), "" when the package's own source did.
	Repository string `json:"repository,omitempty"`
	UpdateURL  string `json:"update_url,omitempty"`
	News       string `json:"news,omitempty"`
	// ReleaseNotes is the release's own text when it says more than News.
	ReleaseNotes string `json:"release_notes,omitempty"`
	Error        string `json:"error,omitempty"`
	// Hold is set when the package is held (status held).
	Hold *pkgdir.Hold `json:"hold,omitempty"`
	// Newest is the newest release when it is held back; Reason says why
	// ("0.8.0 needs a2 >= 0.6.0; a2 is 0.5.7").
	Newest string `json:"newest,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Requirements are the installed version's requirement fields;
	// NewestRequirements those of the newest release, as the source
	// declares them.
	Requirements       *resolve.Requirements `json:"requirements,omitempty"`
	NewestRequirements *resolve.Requirements `json:"newest_requirements,omitempty"`

	// Release is what the source said (Resolved when update-available):
	// what update installs.
	Release sources.Release `json:"-"`
	// newest is the newest release when it is held back (Release is then
	// an older one that fits, or the newest).
	newest sources.Release
	// Err is the error behind StatusError, for errors.Is.
	Err error `json:"-"`
	// Package is the package checked.
	Package pkgdir.Package `json:"-"`
	// Warnings are things the user should know that did not stop anything.
	Warnings []string `json:"warnings,omitempty"`
}

// Installable reports whether an update would install something: status
// update-available, or held-back with an older release that fits.
func (r Result) Installable() bool {
	return r.Status == StatusUpdateAvailable || r.Status == StatusHeldBack && r.Available != ""
}

func (r *Result) fail(status Status, err error) {
	r.Status = status
	r.Err = redact.Error(err) // its text is shown, logged and kept in state files
	r.Error = r.Err.Error()
}

// Detail is text about package name without a leading "name: " (or the
// "name " of "name 1.2.0: "): errors name their package for the daemon's
// log and for callers that handle several, and whoever prints them beside
// the name already says it once.
func Detail(name, text string) string {
	if rest, ok := strings.CutPrefix(text, name+": "); ok {
		return rest
	}
	if rest, ok := strings.CutPrefix(text, name+" "); ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		return rest
	}
	return text
}

// releaseNotes is a release's own text, unless it is empty or says what
// the manifest's news says already.
func releaseNotes(rel sources.Release, news string) string {
	notes := strings.TrimSpace(rel.ReleaseNotes)
	if notes == "" || notes == strings.TrimSpace(news) {
		return ""
	}
	return rel.ReleaseNotes
}
