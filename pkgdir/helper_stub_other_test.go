//go:build !linux

package pkgdir

import (
	"fmt"
	"os"
)

func helperSwap(string) {
	fmt.Fprintln(os.Stderr, "swap helper is linux-only")
	os.Exit(2)
}

func helperReadOnly(string) {
	fmt.Fprintln(os.Stderr, "read-only helper is linux-only")
	os.Exit(2)
}
