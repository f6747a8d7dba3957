package pkgdir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A disabled package is moved out of its root, as it is, into
// .modup/disabled/<name>: the host no longer loads it, modup no longer
// updates it, and requirements count it as missing. Enabling moves it
// back. Each move is one rename under a journal, so a crash leaves it in
// one place or the other. Its install record (and hold) stays.

// disabledRel is the root-relative slash form of the disabled folder.
var disabledRel = StateDirName + "/" + FolderDisabled

// DisabledDir holds disabled packages: disabled/<name>.
func (l Layout) DisabledDir() string { return filepath.Join(l.Dir(), FolderDisabled) }

// ErrDisabled: the package is disabled (`modup enable NAME` brings it
// back).
var ErrDisabled = errors.New("package is disabled")

// Disable moves package name out of the root into disabled/<name>. The
// caller holds the package's lock.
func (l Layout) Disable(ctx context.Context, name string) error {
	return l.move(ctx, opDisable, name, nil)
}

// Enable moves the disabled package name back into the root, as it was.
// A folder of that name in the root is refused. The caller holds the
// package's lock.
func (l Layout) Enable(ctx context.Context, name string) error {
	return l.move(ctx, opEnable, name, nil)
}

func (l Layout) move(ctx context.Context, op, name string, inject func(string) error) error {
	if err := CheckName(name); err != nil {
		return err
	}
	what := op + " " + name
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := l.checkLocked(name); err != nil {
		return err
	}
	if err := l.Check(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := l.checkNoJournal(name); err != nil {
		return err
	}
	live := filepath.Join(l.Root, name)
	if _, err := l.ownDir(op == opDisable, FolderDisabled); err != nil && (op == opDisable || !errors.Is(err, fs.ErrNotExist)) {
		return fmt.Errorf("%s: %w", what, err)
	}
	disabled := filepath.Join(l.DisabledDir(), name)
	hasLive, err := isDir(live)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	hasDisabled, err := exists(disabled)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	from, to := live, disabled
	switch {
	case op == opDisable && !hasLive:
		return fmt.Errorf("%s: %w in %s", what, ErrNoPackage, l.Root)
	case op == opDisable && hasDisabled:
		return fmt.Errorf("%s: a disabled %s is there already (%s): enable or remove that one first", what, name, disabled)
	case op == opEnable && !hasDisabled:
		return fmt.Errorf("%s: %s is not disabled in %s", what, name, l.Root)
	case op == opEnable && hasLive:
		return fmt.Errorf("%s: a folder %s is in the way (another %s was installed meanwhile?): move it away first", what, live, name)
	case op == opEnable:
		from, to = disabled, live
	}
	if inject == nil {
		inject = func(string) error { return nil }
	}
	j := &journal{Op: op, Name: name, Live: name, Staged: disabledRel + "/" + name, OldVersion: liveVersion(from), Started: time.Now().UTC()}
	if err := inject(StepJournal); err != nil {
		return err
	}
	if err := l.writeJournal(j); err != nil {
		_ = l.removeJournal(name)
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := inject(stepMove); err != nil {
		return err
	}
	if err := moveTo(from, to, false); err != nil {
		if _, serr := l.settle(j, nil); serr != nil {
			return fmt.Errorf("%s: %w; the change could not be settled (%v): its journal %s stays, and the next modup command tries again", what, err, serr, l.JournalPath(name))
		}
		return fmt.Errorf("%s: %w; nothing was changed", what, err)
	}
	if err := inject(StepUnjournal); err != nil {
		return err
	}
	if err := l.removeJournal(name); err != nil {
		return fmt.Errorf("%s: done, but its journal could not be removed: %w", what, err)
	}
	if own, err := l.openOwn(false); op == opEnable && err == nil {
		removeIfEmpty(own, FolderDisabled)
		own.Close()
	} else if err == nil {
		own.Close()
	}
	return nil
}

// stepMove is the one rename of disable and enable.
const stepMove = "move"

// settleMove settles a disable or enable: the folder is where the move
// put it (done) or where it was (not done); either way only the journal
// goes.
func (l Layout) settleMove(j *journal, hook func(string) error) (Recovery, error) {
	live, err := l.fromRel(j.Live)
	if err != nil {
		return Recovery{}, err
	}
	disabled, err := l.fromRel(j.Staged)
	if err != nil {
		return Recovery{}, err
	}
	le, err := exists(live)
	if err != nil {
		return Recovery{}, err
	}
	de, err := exists(disabled)
	if err != nil {
		return Recovery{}, err
	}
	if le && de {
		return Recovery{}, fmt.Errorf("the interrupted %s of %s left both %s and %s: keep the right one and remove %s", j.Op, j.Name, live, disabled, l.JournalPath(j.Name))
	}
	done := de == (j.Op == opDisable)
	if err := hook(StepUnjournal); err != nil {
		return Recovery{}, err
	}
	if err := l.removeJournal(j.Name); err != nil {
		return Recovery{}, err
	}
	if done {
		return Recovery{Package: j.Name, Action: ActionFinished, Detail: fmt.Sprintf("finished the interrupted %s of %s", j.Op, j.Name)}, nil
	}
	return Recovery{Package: j.Name, Action: ActionRolledBack, Detail: fmt.Sprintf("undid the interrupted %s of %s; it is as it was", j.Op, j.Name)}, nil
}

// Disabled lists the disabled packages of the root, by name, each as Load
// reads it (Dir is its folder in disabled/, Disabled is set).
func (l Layout) Disabled() ([]Package, error) {
	r, err := l.OpenOwn(false, FolderDisabled)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	ents, err := readDirIn(r, ".")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.DisabledDir(), err)
	}
	var out []Package
	for _, e := range ents {
		if !e.IsDir() || CheckName(e.Name()) != nil {
			continue
		}
		p, ok := Load(l.Root, filepath.Join(l.DisabledDir(), e.Name()))
		if !ok {
			continue
		}
		p.Disabled = true
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Package) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DisabledIn lists the disabled packages of every root.
func DisabledIn(roots []string) ([]Package, error) {
	var out []Package
	for _, root := range roots {
		if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
			continue // Scan reports it
		}
		ps, err := Layout{Root: root}.Disabled()
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}
