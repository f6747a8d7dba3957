//go:build !linux

package main

import (
	"context"
	"errors"
)

// runBench measures through /proc, /usr/bin/time and syncfs: Linux only.
func runBench(context.Context, []string) error {
	return errors.New("run: the benchmarks run on Linux only")
}
