package main

import (
	"bufio"
	"errors"
	"os"
	"strings"
)

// errDeclined: the user answered no.
var errDeclined = errors.New("not confirmed; nothing changed")

// confirm asks question on a terminal and wants "y" or "yes". Without a
// terminal on stdin nobody can answer: that is a usage error saying what
// to pass instead (noTerminal).
func (a *app) confirm(question, noTerminal string) error {
	if !a.interactive() {
		return &exitError{code: exitUsage, err: errors.New(noTerminal)}
	}
	printf(a.stderr, "%s [y/N] ", question)
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && line == "" {
		printf(a.stderr, "\n")
		return &exitError{code: exitFailure, err: errDeclined}
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return &exitError{code: exitFailure, err: errDeclined}
}

// interactive reports whether stdin is a terminal someone can answer on.
func (a *app) interactive() bool { return a.terminal(a.stdin) }

// terminal reports whether stream (stdin, stdout or stderr) is a terminal.
func (a *app) terminal(stream any) bool {
	if a.isTerminal != nil {
		return a.isTerminal(stream)
	}
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
