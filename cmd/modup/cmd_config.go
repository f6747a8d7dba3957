package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/modup/modup/config"
	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/repo"
)

func (a *app) configCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Show the configuration file and the settings in effect",
		Long: `modup reads an optional TOML file: $MODUP_CONFIG, else
<user config dir>/modup/config.toml (Linux: ~/.config/modup/config.toml,
macOS: ~/Library/Application Support/modup/config.toml, Windows:
%APPDATA%\modup\config.toml). A flag beats its environment variable, which
beats the file, which beats the default.`,
		Example: `  modup config path
  modup config show
  modup config show --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	c.AddCommand(a.configPathCmd(), a.configShowCmd())
	return c
}

func (a *app) configPathCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "path",
		Short: "Print the configuration file modup reads (also when it does not exist yet)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := config.Path(a.getenv, a.userConfigDir)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			printf(a.stdout, "%s\n", path)
			if _, err := os.Stat(path); err != nil {
				printf(a.stderr, "modup: %s does not exist yet; modup uses its defaults\n", path)
			}
			return nil
		},
	}
}

// settingJSON is one row of `config show --json`.
type settingJSON struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
	From   string `json:"from,omitempty"`
	Env    string `json:"env,omitempty"`
	Flag   string `json:"flag"`
}

// githubJSON is one [[github]] (or [[gitlab]]) host in `config show
// --json`; the token's value is never printed, only whether its variable
// is set.
type githubJSON struct {
	Web      string `json:"web"`
	API      string `json:"api"`
	Raw      string `json:"raw,omitempty"`
	TokenEnv string `json:"token_env,omitempty"`
	TokenSet bool   `json:"token_set"`
}

func (a *app) configShowCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show",
		Short: "Print every setting in effect and where it came from (flag, env, file, default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rows []settingJSON
			for _, s := range config.Settings() {
				o := a.origins[s.Key]
				rows = append(rows, settingJSON{Key: s.Key, Value: a.settingValue(cmd, s), Source: o.Kind, From: o.Detail, Env: s.Env, Flag: "--" + s.Flag})
			}
			hosts := []githubJSON{}
			for _, h := range a.cfg.GitHub {
				hosts = append(hosts, githubJSON{Web: redact.URL(h.Web), API: redact.URL(h.API), Raw: redact.URL(h.Raw), TokenEnv: h.TokenEnv, TokenSet: h.TokenEnv != "" && a.getenv(h.TokenEnv) != ""})
			}
			gitlabHosts := []githubJSON{}
			for _, h := range a.cfg.GitLab {
				gitlabHosts = append(gitlabHosts, githubJSON{Web: redact.URL(h.Web), API: redact.URL(h.API), TokenEnv: h.TokenEnv, TokenSet: h.TokenEnv != "" && a.getenv(h.TokenEnv) != ""})
			}
			repos := []repoEntry{}
			reposErr := ""
			if l, err := a.repoList(); err != nil {
				reposErr = err.Error()
			} else {
				for _, r := range l.Repos {
					repos = append(repos, repoEntry{Name: r.Name, URL: r.Shown(), Enabled: r.Enabled, Mirror: r.Mirror, DeclaredIn: r.From})
				}
			}
			if asJSON {
				out := map[string]any{"file": a.cfg.Path, "exists": a.cfg.Exists, "settings": rows, "github": hosts, "gitlab": gitlabHosts, "repos": repos}
				if reposErr != "" {
					out["repos_error"] = reposErr
				}
				return writeJSON(a.stdout, out)
			}
			switch {
			case a.cfg.Path == "":
				printf(a.stdout, "file: none (no configuration folder)\n")
			case a.cfg.Exists:
				printf(a.stdout, "file: %s\n", a.cfg.Path)
			default:
				printf(a.stdout, "file: %s (does not exist; defaults apply)\n", a.cfg.Path)
			}
			t := newTable(a.stdout, "KEY", "VALUE", "SOURCE")
			for _, r := range rows {
				src := r.Source
				if r.From != "" {
					src += " " + r.From
				}
				t.row(r.Key, r.Value, src)
			}
			if err := t.flush(); err != nil {
				return err
			}
			for _, h := range hosts {
				printf(a.stdout, "github host %s: api %s, raw %s, %s\n", h.Web, h.API, h.Raw, tokenDescription(h))
			}
			for _, h := range gitlabHosts {
				printf(a.stdout, "gitlab host %s: api %s, %s\n", h.Web, h.API, tokenDescription(h))
			}
			for _, r := range repos {
				state := "enabled"
				if !r.Enabled {
					state = "disabled"
				}
				if r.Mirror {
					state += ", mirror only"
				}
				from := r.DeclaredIn
				if from == "" {
					from = repo.PathFor(a.cfg.Path)
				}
				printf(a.stdout, "repo %s: %s (%s; %s)\n", r.Name, r.URL, state, from)
			}
			if reposErr != "" {
				printf(a.stdout, "repos: %s\n", reposErr)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// tokenDescription says where a host's token comes from and whether it is set.
func tokenDescription(h githubJSON) string {
	if h.TokenEnv == "" {
		return "no token"
	}
	if !h.TokenSet {
		return "token from " + h.TokenEnv + " (not set)"
	}
	return "token from " + h.TokenEnv
}
