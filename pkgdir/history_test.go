package pkgdir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func entry(pkg string, action HistoryAction, from, to string) HistoryEntry {
	return HistoryEntry{Time: time.Now().UTC().Round(time.Millisecond), Package: pkg, Action: action, From: from, To: to, Result: HistoryOK, By: "cli"}
}

func appendAll(t *testing.T, l Layout, es ...HistoryEntry) {
	t.Helper()
	for _, e := range es {
		if err := l.AppendHistory(t.Context(), e); err != nil {
			t.Fatalf("AppendHistory: %v", err)
		}
	}
}

func historyPath(l Layout, file string) string { return filepath.Join(l.Dir(), file) }

func TestHistoryAppendAndRead(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	if h, err := l.History("", 0); err != nil || len(h) != 0 {
		t.Fatalf("History of a root without .modup = %v, %v; want none", h, err)
	}
	failed := entry("b", HistoryUpdate, "1.0.0", "2.0.0")
	failed.Result, failed.Error = HistoryFailed, "download b 2.0.0: 404"
	es := []HistoryEntry{
		entry("a", HistoryInstall, "", "1.0.0"),
		entry("a", HistoryUpdate, "1.0.0", "1.1.0"),
		failed,
		entry("a", HistoryRollback, "1.1.0", "1.0.0"),
		entry("b", HistoryRemove, "1.0.0", ""),
	}
	appendAll(t, l, es...)

	tests := []struct {
		name  string
		pkg   string
		limit int
		want  []int // indexes into es
	}{
		{name: "all", want: []int{0, 1, 2, 3, 4}},
		{name: "one package", pkg: "a", want: []int{0, 1, 3}},
		{name: "last two", limit: 2, want: []int{3, 4}},
		{name: "last of one package", pkg: "b", limit: 1, want: []int{4}},
		{name: "unknown package", pkg: "zzz", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := l.History(tc.pkg, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d entries, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, j := range tc.want {
				want := es[j]
				want.Root = l.Root
				if !got[i].Time.Equal(want.Time) {
					t.Errorf("entry %d time %v, want %v", i, got[i].Time, want.Time)
				}
				got[i].Time = want.Time
				if got[i] != want {
					t.Errorf("entry %d = %+v, want %+v", i, got[i], want)
				}
			}
		})
	}
	data, err := os.ReadFile(historyPath(l, HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n != len(es) {
		t.Errorf("%d lines in the file, want %d", n, len(es))
	}
	if bytes.Contains(data, []byte(`"root"`)) {
		t.Errorf("the root is written into the file: %s", data)
	}
}

// A long error is cut so that an entry stays one bounded line.
func TestHistoryLongError(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	e := entry("a", HistoryUpdate, "1", "2")
	e.Result, e.Error = HistoryFailed, strings.Repeat("x", 100<<10)
	appendAll(t, l, e)
	got, err := l.History("", 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("History = %v, %v", got, err)
	}
	if n := len(got[0].Error); n >= maxHistoryLine || n < 1000 {
		t.Errorf("error of %d bytes kept, want it cut below %d", n, maxHistoryLine)
	}
}

// ReadHistory merges roots by time and names each entry's root.
func TestReadHistoryMergesRoots(t *testing.T) {
	r1, r2 := Layout{Root: t.TempDir()}, Layout{Root: t.TempDir()}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(e HistoryEntry, min int) HistoryEntry {
		e.Time = base.Add(time.Duration(min) * time.Minute)
		return e
	}
	appendAll(t, r1, at(entry("a", HistoryInstall, "", "1"), 1), at(entry("a", HistoryUpdate, "1", "2"), 3))
	appendAll(t, r2, at(entry("b", HistoryInstall, "", "1"), 2), at(entry("b", HistoryUpdate, "1", "2"), 4))
	got, err := ReadHistory([]string{r1.Root, r2.Root}, "", 3)
	if err != nil {
		t.Fatal(err)
	}
	var seq []string
	for _, e := range got {
		seq = append(seq, e.Package+"@"+filepath.Base(e.Root)+"@"+strconv.Itoa(int(e.Time.Sub(base).Minutes())))
	}
	want := []string{"b@" + filepath.Base(r2.Root) + "@2", "a@" + filepath.Base(r1.Root) + "@3", "b@" + filepath.Base(r2.Root) + "@4"}
	if strings.Join(seq, " ") != strings.Join(want, " ") {
		t.Errorf("merged = %v, want %v", seq, want)
	}
	empty, err := ReadHistory([]string{t.TempDir()}, "", 0)
	if err != nil || empty == nil || len(empty) != 0 {
		t.Errorf("ReadHistory of a fresh root = %#v, %v; want an empty, non-nil list", empty, err)
	}
}

// fillHistory makes the live history HistoryMaxSize bytes long, starting
// with an entry of package marker.
func fillHistory(t *testing.T, l Layout, marker string) {
	t.Helper()
	appendAll(t, l, entry(marker, HistoryInstall, "", "1.0.0"))
	f, err := os.OpenFile(historyPath(l, HistoryFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	// Lines that are no entries (each fails to parse at its first byte).
	line := append(bytes.Repeat([]byte("x"), 8191), '\n')
	filler := bytes.Repeat(line, int(HistoryMaxSize-fi.Size())/len(line)+1)
	if _, err := f.Write(filler); err != nil {
		t.Fatal(err)
	}
}

// At HistoryMaxSize the history is rotated; the two files before the live
// one are kept and read, older ones dropped.
func TestHistoryRotation(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	packages := func() []string {
		t.Helper()
		h, err := l.History("", 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range h {
			out = append(out, e.Package)
		}
		return out
	}
	fillHistory(t, l, "first")
	appendAll(t, l, entry("after-first", HistoryUpdate, "1", "2"))
	if got := strings.Join(packages(), " "); got != "first after-first" {
		t.Fatalf("after one rotation: %s", got)
	}
	if _, err := os.Stat(historyPath(l, HistoryFile+".1")); err != nil {
		t.Fatalf("no rotated file: %v", err)
	}
	// The live file now starts small again.
	if fi, err := os.Stat(historyPath(l, HistoryFile)); err != nil || fi.Size() > 1024 {
		t.Fatalf("live history after rotation: %v, %v", fi, err)
	}

	fillHistory(t, l, "second") // appended to the live file after after-first
	appendAll(t, l, entry("after-second", HistoryUpdate, "1", "2"))
	fillHistory(t, l, "third")
	appendAll(t, l, entry("after-third", HistoryUpdate, "1", "2"))
	// "first" was in the oldest file, now dropped.
	if got := strings.Join(packages(), " "); got != "after-first second after-second third after-third" {
		t.Errorf("after three rotations: %s", got)
	}
	if _, err := os.Stat(historyPath(l, HistoryFile+".3")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a third rotated file exists: %v", err)
	}
}

// A torn last line (a writer killed halfway) is skipped by the reader and
// ended by the next writer, whose entry is read whole.
func TestHistoryTornTail(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	appendAll(t, l, entry("a", HistoryInstall, "", "1.0.0"))
	f, err := os.OpenFile(historyPath(l, HistoryFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"time":"2026-01-01T00:00:00Z","package":"torn","act`)
	f.Close()
	got, err := l.History("", 0)
	if err != nil || len(got) != 1 || got[0].Package != "a" {
		t.Fatalf("History with a torn tail = %+v, %v; want the one whole entry", got, err)
	}
	appendAll(t, l, entry("b", HistoryUpdate, "1", "2"))
	got, err = l.History("", 0)
	if err != nil || len(got) != 2 || got[1].Package != "b" {
		t.Fatalf("History after the next append = %+v, %v; want a and b", got, err)
	}
}

// helperHistory appends five whole entries, then writes half of a sixth,
// says "torn" and waits to be killed (see TestHistoryKilledWriter).
func helperHistory(root string) {
	l := Layout{Root: root}
	ctx := context.Background()
	for i := range 5 {
		if err := l.AppendHistory(ctx, entry(fmt.Sprintf("whole-%d", i), HistoryUpdate, "1", "2")); err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
	}
	half := func(f *os.File, line []byte) error {
		if _, err := f.Write(line[:len(line)/2]); err != nil {
			return err
		}
		f.Sync()
		fmt.Println("torn")
		time.Sleep(time.Minute)
		_, err := f.Write(line[len(line)/2:])
		return err
	}
	err := l.appendHistory(ctx, entry("torn", HistoryUpdate, "1", "2"), half)
	fmt.Println("error: not killed:", err)
	os.Exit(3)
}

// A writer killed (SIGKILL) in the middle of a line leaves the history
// readable: every whole entry, not the torn one; the next writer's entry
// is read whole, and so is the history lock it held.
func TestHistoryKilledWriter(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	cmd, line := startHelper(t, "history:"+l.Root)
	if line != "torn" {
		t.Fatalf("helper said %q, want torn", line)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	data, err := os.ReadFile(historyPath(l, HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 || data[len(data)-1] == '\n' {
		t.Fatalf("the killed writer left no torn line: %q", data)
	}
	got, err := l.History("", 0)
	if err != nil {
		t.Fatalf("History after the kill: %v", err)
	}
	var names []string
	for _, e := range got {
		names = append(names, e.Package)
	}
	if want := "whole-0 whole-1 whole-2 whole-3 whole-4"; strings.Join(names, " ") != want {
		t.Fatalf("entries after the kill: %v, want %s", names, want)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := l.AppendHistory(ctx, entry("next", HistoryUpdate, "2", "3")); err != nil {
		t.Fatalf("append after the kill (the dead writer's lock must be free): %v", err)
	}
	got, err = l.History("", 0)
	if err != nil || len(got) != 6 || got[5].Package != "next" {
		t.Fatalf("History after the next append = %+v, %v", got, err)
	}
}

// Writers in parallel never tear each other's lines.
func TestHistoryConcurrentWriters(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := entry(fmt.Sprintf("w%d", w), HistoryUpdate, strconv.Itoa(i), strconv.Itoa(i+1))
				e.Error = strings.Repeat("e", 3000) // lines of several KiB
				if err := l.AppendHistory(t.Context(), e); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := l.History("", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != writers*each {
		t.Fatalf("%d entries read, want %d", len(got), writers*each)
	}
	next := map[string]int{}
	for _, e := range got {
		if e.From != strconv.Itoa(next[e.Package]) {
			t.Fatalf("%s: entry from %s out of order (want %d)", e.Package, e.From, next[e.Package])
		}
		next[e.Package]++
	}
}
