package pkgdir

import (
	"path/filepath"
)

// Layout names the parts of a root's .modup/ folder. Everything modup
// writes besides package folders lives here; own.go says how it is
// reached.
type Layout struct {
	Root string
}

// Dir is <root>/.modup.
func (l Layout) Dir() string { return filepath.Join(l.Root, StateDirName) }

// CacheDir keeps validators of conditional requests.
func (l Layout) CacheDir() string { return filepath.Join(l.Dir(), FolderCache) }

// StateDir keeps per-package check results (for the daemon and status).
func (l Layout) StateDir() string { return filepath.Join(l.Dir(), FolderState) }

// TmpDir holds partial downloads.
func (l Layout) TmpDir() string { return filepath.Join(l.Dir(), FolderTmp) }

// StagingDir holds extracted archives before the swap.
func (l Layout) StagingDir() string { return filepath.Join(l.Dir(), FolderStaging) }

// BackupsDir holds earlier versions: backups/<name>/<version>/.
func (l Layout) BackupsDir() string { return filepath.Join(l.Dir(), FolderBackups) }

// LocksDir holds one lock file per package.
func (l Layout) LocksDir() string { return filepath.Join(l.Dir(), FolderLocks) }

// JournalDir holds the journal of swaps in progress.
func (l Layout) JournalDir() string { return filepath.Join(l.Dir(), FolderJournal) }
