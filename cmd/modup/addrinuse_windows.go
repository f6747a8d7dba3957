//go:build windows

package main

import (
	"errors"

	"golang.org/x/sys/windows"
)

// addrInUse reports whether a listen failed because the port is taken.
func addrInUse(err error) bool { return errors.Is(err, windows.WSAEADDRINUSE) }
