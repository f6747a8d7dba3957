package selfupdate

import (
	"fmt"
	"path/filepath"
	"strings"
)

// ManagedError says that a package manager installed the executable and
// which command updates it.
type ManagedError struct {
	Path    string
	Command string
}

func (e *ManagedError) Error() string {
	return fmt.Sprintf("%s was installed by a package manager; update it with it: %s", e.Path, e.Command)
}

// Is makes errors.Is(err, ErrManaged) true.
func (e *ManagedError) Is(target error) bool { return target == ErrManaged }

// ManagedBy reports whether exe (links resolved) lies where a package
// manager installs programs, and the command that updates it there.
func ManagedBy(exe string) (command string, managed bool) {
	p := strings.ReplaceAll(filepath.ToSlash(exe), `\`, "/") // Windows paths, wherever they are judged
	lower := strings.ToLower(p)
	switch {
	case strings.Contains(lower, "/scoop/apps/"):
		return "scoop update modup", true
	case strings.HasPrefix(p, "/usr/local/Cellar/"), strings.HasPrefix(p, "/opt/homebrew/"), strings.HasPrefix(p, "/home/linuxbrew/.linuxbrew/"):
		return "brew upgrade modup", true
	case strings.HasPrefix(p, "/snap/"):
		return "sudo snap refresh modup", true
	case strings.HasPrefix(p, "/nix/store/"):
		return "your Nix configuration (nix profile upgrade, or a rebuild)", true
	case strings.HasPrefix(p, "/usr/bin/"), strings.HasPrefix(p, "/usr/sbin/"), strings.HasPrefix(p, "/bin/"), strings.HasPrefix(p, "/sbin/"):
		return "the system's package manager (for example: sudo apt install --only-upgrade modup, or sudo dnf upgrade modup)", true
	}
	return "", false
}
