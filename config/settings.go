package config

// Setting is one key of the file, with where else its value can come from.
type Setting struct {
	// Key is the dotted key in the file: "lock_timeout", "daemon.interval".
	Key string
	// Flag is the command-line flag that sets it ("root", "interval").
	Flag string
	// Env is the environment variable that sets it ("" = none).
	Env string
	// Default is the value when nothing sets it, in the flag's form.
	Default string
	// Help says what it is.
	Help string
	// Hint says how a value is written, for errors.
	Hint string
}

// Settings lists every key of the file. The precedence is flag, then
// environment, then file, then Default.
func Settings() []Setting {
	const (
		duration = `a duration such as "30s" or "6h"`
		size     = `a size such as "512MiB" or "1GB"`
		integer  = `a whole number`
		boolean  = `true or false`
		text     = `a string in quotes`
	)
	return []Setting{
		{Key: "roots", Flag: "root", Env: "MODUP_ROOTS", Help: "folders of packages", Hint: `a list of folders: roots = ["~/a2/modules"]`},
		{Key: "allow_http", Flag: "allow-http", Env: "MODUP_ALLOW_HTTP", Default: "false", Help: "allow plain http:// update_urls beyond loopback", Hint: boolean},
		{Key: "lock_timeout", Flag: "lock-timeout", Env: "MODUP_LOCK_TIMEOUT", Default: "30s", Help: "how long to wait for another modup working on the same package", Hint: duration},
		{Key: "fetch_timeout", Flag: "fetch-timeout", Env: "MODUP_FETCH_TIMEOUT", Default: "1m0s", Help: "deadline of each manifest and API request", Hint: duration},
		{Key: "min_rate", Flag: "min-rate", Env: "MODUP_MIN_RATE", Default: "1KiB", Help: "slowest download accepted, averaged over a minute", Hint: size},
		{Key: "max_size", Flag: "max-size", Env: "MODUP_MAX_SIZE", Default: "512MiB", Help: "largest download accepted", Hint: size},
		{Key: "keep_backups", Flag: "keep-backups", Env: "MODUP_KEEP_BACKUPS", Default: "3", Help: "backups kept per package", Hint: integer},
		{Key: "log_format", Flag: "log-format", Env: "MODUP_LOG_FORMAT", Default: "text", Help: "log format: text or json", Hint: `"text" or "json"`},
		{Key: "host", Flag: "host", Env: "MODUP_HOST", Default: "a2", Help: "the application that loads the packages (requires.<host> in manifests)", Hint: `a name in quotes such as "a2"`},
		{Key: "host_version", Flag: "host-version", Env: "MODUP_HOST_VERSION", Help: "the host's version; unset, host requirements are reported, not enforced", Hint: `a version in quotes such as "0.5.7"`},
		{Key: "repo_max_age", Flag: "repo-max-age", Env: "MODUP_REPO_MAX_AGE", Default: "1h0m0s", Help: "how old a repository's copy of its index may be before it is asked again", Hint: duration},
		{Key: "daemon.interval", Flag: "interval", Env: "MODUP_DAEMON_INTERVAL", Default: "6h0m0s", Help: "how often the daemon checks each package", Hint: duration},
		{Key: "daemon.policy", Flag: "policy", Env: "MODUP_DAEMON_POLICY", Default: "auto", Help: "auto installs updates, notify only records them", Hint: `"auto" or "notify"`},
		{Key: "daemon.concurrency", Flag: "concurrency", Env: "MODUP_DAEMON_CONCURRENCY", Default: "4", Help: "checks or installs the daemon runs at once", Hint: integer},
		{Key: "daemon.on_update", Flag: "on-update", Env: "MODUP_DAEMON_ON_UPDATE", Help: "shell command run after each install", Hint: text},
		{Key: "daemon.hook_timeout", Flag: "hook-timeout", Env: "MODUP_DAEMON_HOOK_TIMEOUT", Default: "5m0s", Help: "how long the on_update command may run", Hint: duration},
		{Key: "daemon.listen", Flag: "listen", Env: "MODUP_DAEMON_LISTEN", Help: "address of the daemon's HTTP API and page (off when unset)", Hint: `an address such as "127.0.0.1:7391"`},
		{Key: "daemon.listen_any", Flag: "listen-any", Env: "MODUP_DAEMON_LISTEN_ANY", Default: "false", Help: "allow a listen address beyond loopback", Hint: boolean},
		{Key: "daemon.metrics_public", Flag: "metrics-public", Env: "MODUP_DAEMON_METRICS_PUBLIC", Default: "false", Help: "serve /metrics without the API token", Hint: boolean},
		{Key: "self_update.repo", Flag: "repo", Env: "MODUP_SELF_REPO", Help: "the GitHub repository of modup's own releases, OWNER/REPO", Hint: text},
		{Key: "self_update.release_key", Flag: "release-key", Env: "MODUP_RELEASE_KEY", Help: "the minisign public key modup's releases are signed with", Hint: text},
	}
}

// hint returns how key's value is written.
func hint(key string) string {
	for _, s := range Settings() {
		if s.Key == key {
			return s.Hint
		}
	}
	return ""
}
