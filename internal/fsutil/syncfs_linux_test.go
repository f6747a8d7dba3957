//go:build linux

package fsutil

import (
	"errors"
	"os"
	"testing"
)

func TestKernelVersion(t *testing.T) {
	tests := []struct {
		release      string
		major, minor int
		ok           bool
	}{
		{"6.1.0-18-amd64", 6, 1, true},
		{"5.8.0", 5, 8, true},
		{"5.10", 5, 10, true},
		{"4.19.0-26-cloud-amd64", 4, 19, true},
		{"6.18.44-fc-v669", 6, 18, true},
		{"5.15.153.1-microsoft-standard-WSL2", 5, 15, true},
		{"6.8rc1", 6, 8, true},
		{"garbage", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		major, minor, ok := kernelVersion(tt.release)
		if ok != tt.ok || ok && (major != tt.major || minor != tt.minor) {
			t.Errorf("kernelVersion(%q) = %d, %d, %v; want %d, %d, %v", tt.release, major, minor, ok, tt.major, tt.minor, tt.ok)
		}
	}
}

func TestSyncFS(t *testing.T) {
	d, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = SyncFS(d)
	if SyncFSUsable() && err != nil && !errors.Is(err, ErrSyncFSUnsupported) {
		t.Errorf("SyncFS = %v", err)
	}
	if !SyncFSUsable() && !errors.Is(err, ErrSyncFSUnsupported) {
		t.Errorf("SyncFS where unusable = %v, want ErrSyncFSUnsupported", err)
	}
}
