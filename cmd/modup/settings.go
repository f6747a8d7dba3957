package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/modup/modup/config"
	"github.com/modup/modup/resolve"
	"github.com/modup/modup/updater"
)

// Where a setting's value came from, for `modup config show`.
const (
	fromFlag    = "flag"
	fromEnv     = "env"
	fromFile    = "file"
	fromDefault = "default"
)

// origin is where one setting's effective value came from.
type origin struct {
	Kind   string // fromFlag, fromEnv, fromFile or fromDefault
	Detail string // "--lock-timeout", "MODUP_LOCK_TIMEOUT", "config.toml:3"
}

func (o origin) String() string {
	if o.Detail == "" {
		return o.Kind
	}
	return o.Kind + " " + o.Detail
}

// userConfigDir is os.UserConfigDir read through the app's environment,
// so that in-process tests never see the real user's file.
func (a *app) userConfigDir() (string, error) {
	return a.userDir("APPDATA", filepath.Join("Library", "Application Support"), "XDG_CONFIG_HOME", ".config")
}

// userCacheDir is os.UserCacheDir read the same way (repositories' copies).
func (a *app) userCacheDir() (string, error) {
	return a.userDir("LocalAppData", filepath.Join("Library", "Caches"), "XDG_CACHE_HOME", ".cache")
}

// userDir is a per-user folder as the os package finds it: the Windows
// variable windowsVar, macOS's $HOME/darwin, else $xdgVar when absolute,
// else $HOME/home.
func (a *app) userDir(windowsVar, darwin, xdgVar, home string) (string, error) {
	switch runtime.GOOS {
	case "windows":
		if d := a.getenv(windowsVar); d != "" {
			return d, nil
		}
		return "", fmt.Errorf("%%%s%% is not set", windowsVar)
	case "darwin", "ios":
		if h := a.getenv("HOME"); h != "" {
			return filepath.Join(h, darwin), nil
		}
		return "", errors.New("$HOME is not set")
	}
	if d := a.getenv(xdgVar); d != "" && filepath.IsAbs(d) {
		return d, nil
	}
	if h := a.getenv("HOME"); h != "" {
		return filepath.Join(h, home), nil
	}
	return "", fmt.Errorf("neither $%s nor $HOME is set", xdgVar)
}

// loadConfig reads the configuration file once per run. A file that does
// not exist (or no place for one) says nothing.
func (a *app) loadConfig() error {
	if a.cfg != nil {
		return nil
	}
	path, err := config.Path(a.getenv, a.userConfigDir)
	if err != nil {
		a.cfg = &config.File{}
		return nil
	}
	f, err := config.Load(path, a.getenv)
	if err != nil {
		a.cfg = &config.File{Path: path}
		return err
	}
	a.cfg = f
	return nil
}

// applySettings gives every flag of cmd that the user did not set the
// value of its environment variable, else of the configuration file
// (precedence: flag, environment, file, default), and records where each
// setting came from.
func (a *app) applySettings(cmd *cobra.Command) error {
	a.origins = map[string]origin{}
	for _, s := range config.Settings() {
		o, err := a.resolve(s, cmd.Flags().Lookup(s.Flag))
		if err != nil {
			return err
		}
		a.origins[s.Key] = o
	}
	return nil
}

// resolve settles one setting. fl is the command's flag for it, nil when
// the command has none (the origin is still reported).
func (a *app) resolve(s config.Setting, fl *pflag.Flag) (origin, error) {
	if fl != nil && fl.Changed {
		return origin{Kind: fromFlag, Detail: "--" + s.Flag}, nil
	}
	if s.Key == "roots" {
		// Roots are a list, gathered by rootDirs in the same order.
		switch {
		case strings.TrimSpace(a.getenv(s.Env)) != "":
			return origin{Kind: fromEnv, Detail: s.Env}, nil
		case a.cfg.Roots != nil:
			return a.fileOrigin(s.Key), nil
		}
		return origin{Kind: fromDefault}, nil
	}
	if v := a.getenv(s.Env); s.Env != "" && v != "" {
		if fl != nil {
			if err := fl.Value.Set(v); err != nil {
				return origin{}, &exitError{code: exitUsage, err: fmt.Errorf("%s=%s: %w", s.Env, v, err)}
			}
		}
		return origin{Kind: fromEnv, Detail: s.Env}, nil
	}
	if v, ok := a.cfg.Get(s.Key); ok {
		if fl != nil {
			if err := fl.Value.Set(v); err != nil {
				o := a.fileOrigin(s.Key)
				return origin{}, &exitError{code: exitUsage, err: fmt.Errorf("%s: %s: %w", o.Detail, s.Key, err)}
			}
		}
		return a.fileOrigin(s.Key), nil
	}
	return origin{Kind: fromDefault}, nil
}

func (a *app) fileOrigin(key string) origin {
	d := a.cfg.Path
	if line := a.cfg.Line(key); line > 0 {
		d += ":" + strconv.Itoa(line)
	}
	return origin{Kind: fromFile, Detail: d}
}

// settingValue is the effective value of s as `config show` prints it:
// the command's flag when it has one, else environment, file, default.
func (a *app) settingValue(cmd *cobra.Command, s config.Setting) string {
	if s.Key == "roots" {
		roots, err := a.rootList()
		if err != nil {
			return ""
		}
		return strings.Join(roots, string(filepath.ListSeparator))
	}
	if fl := cmd.Flags().Lookup(s.Flag); fl != nil {
		return fl.Value.String()
	}
	if v := a.getenv(s.Env); s.Env != "" && v != "" {
		return v
	}
	if v, ok := a.cfg.Get(s.Key); ok {
		return v
	}
	return s.Default
}

// sizeFlag is a byte count flag that takes units: "512MiB", "1GB".
type sizeFlag struct {
	bytes *int64
	text  string
}

func newSizeFlag(p *int64, def int64) *sizeFlag {
	*p = def
	return &sizeFlag{bytes: p, text: formatSize(def)}
}

func (f *sizeFlag) Set(s string) error {
	n, err := config.ParseSize(s)
	if err != nil {
		return err
	}
	*f.bytes, f.text = n, strings.TrimSpace(s)
	return nil
}

func (f *sizeFlag) String() string { return f.text }
func (f *sizeFlag) Type() string   { return "size" }

// formatSize writes n with the largest IEC unit that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// keepFlag is --keep-backups: a count of 0 or more (0 keeps none).
type keepFlag struct{ n *int }

func newKeepFlag(p *int) *keepFlag {
	*p = updater.DefaultKeepBackups
	return &keepFlag{n: p}
}

func (f *keepFlag) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return fmt.Errorf("%q: want 0 or more backups", s)
	}
	*f.n = n
	return nil
}

func (f *keepFlag) String() string { return strconv.Itoa(*f.n) }
func (f *keepFlag) Type() string   { return "count" }

// keepBackups turns --keep-backups into updater.Updater.KeepBackups.
func keepBackups(n int) int {
	if n == 0 {
		return updater.NoBackups
	}
	return n
}

// hostFlag is --host: the host's name, checked as it is set.
type hostFlag struct{ h *resolve.Host }

func (f hostFlag) Set(s string) error {
	name, err := config.ParseHost(s)
	if err != nil {
		return err
	}
	f.h.Name = name
	return nil
}

func (f hostFlag) String() string {
	if f.h == nil {
		return ""
	}
	return f.h.Name
}
func (f hostFlag) Type() string { return "name" }

// hostVersionFlag is --host-version: the host's version, parsed as it is
// set; "" leaves it unknown.
type hostVersionFlag struct{ h *resolve.Host }

func (f hostVersionFlag) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		f.h.Version = nil
		return nil
	}
	v, err := config.ParseHostVersion(s)
	if err != nil {
		return err
	}
	f.h.Version = v
	return nil
}

func (f hostVersionFlag) String() string {
	if f.h == nil || f.h.Version == nil {
		return ""
	}
	return f.h.Version.Original()
}
func (f hostVersionFlag) Type() string { return "version" }
