package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/modup/modup/config"
	"github.com/modup/modup/daemon"
	"github.com/modup/modup/daemon/api"
	"github.com/modup/modup/daemon/webhook"
	"github.com/modup/modup/internal/redact"
)

// serviceFlags are the daemon's flags of its HTTP service and webhooks,
// and what prepareService builds from them.
type serviceFlags struct {
	listen        string
	listenAny     bool
	metricsPublic bool
	webhooks      []string

	logger  *slog.Logger
	ln      net.Listener
	token   string
	hub     *api.Hub
	metrics *api.Metrics
	hooks   *webhook.Dispatcher
	hosts   []string // Host names accepted besides loopback's
}

func (f *serviceFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.listen, "listen", "", "serve the HTTP API, event stream, metrics and page at this address (e.g. 127.0.0.1:7391)")
	fl.BoolVar(&f.listenAny, "listen-any", false, "allow a --listen address beyond loopback (no TLS: put a proxy in front)")
	fl.BoolVar(&f.metricsPublic, "metrics-public", false, "serve /metrics without the API token")
	fl.StringArrayVar(&f.webhooks, "webhook", nil, "POST events to this URL (repeatable; replaces the configuration file's [[daemon.webhook]] tables)")
}

// tokenPath is the API token's file: <user config dir>/modup/api-token.
func (a *app) tokenPath() (string, error) {
	dir, err := a.userConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration folder for the API token: %w", err)
	}
	return filepath.Join(dir, "modup", api.TokenFile), nil
}

// isLoopback reports whether a listen address's host is loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// prepareService checks the service's flags, loads (or creates) the token,
// listens, and builds the webhooks, before the daemon starts: a mistake
// stops it at once.
func (a *app) prepareService(f *serviceFlags) error {
	hooks, err := a.webhookTargets(f.webhooks)
	if err != nil {
		return err
	}
	if len(hooks) > 0 {
		for _, h := range hooks {
			if strings.HasPrefix(h.URL, "http://") && !isLoopback(hostPort(h.URL)) {
				f.logger.Warn("webhook over plain http: its events and signature travel unencrypted", "url", redact.URL(h.URL))
			}
		}
		f.hooks, err = webhook.New(webhook.Options{Hooks: hooks, UserAgent: "modup/" + modupVersion(), Logger: f.logger})
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
	}
	if f.listen == "" {
		if f.metricsPublic || f.listenAny {
			return &exitError{code: exitUsage, err: errors.New("--listen-any and --metrics-public need --listen ADDR (or daemon.listen)")}
		}
		return nil
	}
	if err := config.CheckListen(f.listen); err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("--listen %w", err)}
	}
	if !isLoopback(f.listen) {
		if !f.listenAny {
			return &exitError{code: exitUsage, err: fmt.Errorf("--listen %s is beyond loopback: pass --listen-any too if other machines should reach the API (there is no TLS: put a proxy in front), or listen on 127.0.0.1", f.listen)}
		}
		f.logger.Warn("the API listens beyond loopback: whoever reaches it with the token can change packages; there is no TLS, put a proxy in front", "listen", f.listen)
		f.hosts = machineHosts()
	}
	path, err := a.tokenPath()
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	token, created, err := api.LoadOrCreateToken(path)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	if created {
		f.logger.Info("created the API token (`modup api-token` prints it)", "file", path)
	}
	f.token = token
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		if addrInUse(err) {
			return &exitError{code: exitFailure, err: fmt.Errorf("--listen %s is in use (another modup daemon?): pick another port", f.listen)}
		}
		return &exitError{code: exitFailure, err: fmt.Errorf("--listen %s: %w", f.listen, err)}
	}
	f.ln = ln
	f.hub = api.NewHub(api.DefaultMaxStreams)
	f.metrics = api.NewMetrics()
	return nil
}

// machineHosts are this machine's names and addresses, accepted as Host
// when the API listens on every interface.
func machineHosts() []string {
	var out []string
	if h, err := os.Hostname(); err == nil {
		out = append(out, h)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, ad := range addrs {
			if ipn, ok := ad.(*net.IPNet); ok {
				out = append(out, ipn.IP.String())
			}
		}
	}
	return out
}

// hostPort is a URL's host:port (the port defaulted), for isLoopback.
func hostPort(u string) string {
	rest := u[strings.Index(u, "://")+3:]
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if _, _, err := net.SplitHostPort(rest); err != nil {
		rest = net.JoinHostPort(strings.Trim(rest, "[]"), "80")
	}
	return rest
}

// webhookTargets are the hooks of --webhook when given, else of the
// configuration file's [[daemon.webhook]] tables (a secret from its
// secret_env). An unknown event is named with its line.
func (a *app) webhookTargets(urls []string) ([]webhook.Hook, error) {
	var hooks []webhook.Hook
	if len(urls) > 0 {
		for _, u := range urls {
			if err := config.CheckWebhookURL(u); err != nil {
				return nil, &exitError{code: exitUsage, err: fmt.Errorf("--webhook %w", err)}
			}
			hooks = append(hooks, webhook.Hook{URL: strings.TrimSpace(u)})
		}
		return hooks, nil
	}
	for i, w := range a.cfg.Daemon.Webhooks {
		h := webhook.Hook{URL: strings.TrimSpace(w.URL), Secret: w.Secret}
		if w.SecretEnv != "" {
			h.Secret = a.getenv(w.SecretEnv)
			if h.Secret == "" {
				key := fmt.Sprintf("daemon.webhook[%d].secret_env", i)
				return nil, &exitError{code: exitUsage, err: &config.Error{Path: a.cfg.Path, Line: a.cfg.Line(key), Key: key,
					Msg: fmt.Sprintf("$%s is not set: set it to the webhook's secret", w.SecretEnv)}}
			}
		}
		for _, e := range w.Events {
			ev := daemon.EventType(strings.TrimSpace(e))
			if !containsEvent(webhook.Events(), ev) {
				key := fmt.Sprintf("daemon.webhook[%d].events", i)
				return nil, &exitError{code: exitUsage, err: &config.Error{Path: a.cfg.Path, Line: a.cfg.Line(key), Key: key,
					Msg: fmt.Sprintf("%q is not an event a webhook receives: want %s", e, eventNames(webhook.Events()))}}
			}
			h.Events = append(h.Events, ev)
		}
		hooks = append(hooks, h)
	}
	return hooks, nil
}

func containsEvent(list []daemon.EventType, e daemon.EventType) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}

func eventNames(list []daemon.EventType) string {
	var s []string
	for _, e := range list {
		s = append(s, string(e))
	}
	return strings.Join(s, ", ")
}

// observers are the daemon's observers the service needs.
func (f *serviceFlags) observers() []daemon.Observer {
	var out []daemon.Observer
	if f.hub != nil {
		out = append(out, f.hub, f.metrics)
	}
	if f.hooks != nil {
		out = append(out, f.hooks)
	}
	return out
}

// run runs the daemon, with its service and webhooks beside it, until ctx
// is cancelled.
func (f *serviceFlags) run(ctx context.Context, d *daemon.Daemon) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var side []chan error
	stopHooks := func() {}
	if f.hooks != nil {
		// The webhooks outlive the daemon's own stop, so that what it did
		// while stopping is told too; then they drain their queues.
		hooksCtx, cancelHooks := context.WithCancel(context.WithoutCancel(ctx))
		defer cancelHooks()
		stopHooks = cancelHooks
		done := make(chan error, 1)
		go func() { f.hooks.Run(hooksCtx); done <- nil }()
		side = append(side, done)
	}
	if f.ln != nil {
		ln, addr := f.ln, f.ln.Addr().String()
		f.metrics.ReadFrom(d)
		srv, err := api.New(api.Options{
			Backend: d, Token: f.token, AllowHosts: f.hosts, MetricsPublic: f.metricsPublic,
			Hub: f.hub, Metrics: f.metrics, Logger: f.logger,
		})
		if err != nil {
			return err
		}
		done := make(chan error, 1)
		go func() {
			err := srv.Serve(ctx, ln)
			if err != nil {
				f.logger.Error("the API stopped; stopping the daemon", "error", err.Error())
				cancel()
			}
			done <- err
		}()
		side = append(side, done)
		f.ln = nil // Serve closes it
		f.logger.Info("API listening", "url", "http://"+uiHost(addr)+"/", "metrics_public", f.metricsPublic)
	}
	err := d.Run(ctx)
	cancel()
	stopHooks()
	for _, done := range side {
		if serr := <-done; serr != nil && err == nil {
			err = serr
		}
	}
	return err
}

// close releases a listener that run never served.
func (f *serviceFlags) close() {
	if f.ln != nil {
		f.ln.Close()
	}
}

func (a *app) apiTokenCmd() *cobra.Command {
	var rotate bool
	c := &cobra.Command{
		Use:   "api-token",
		Short: "Print the token of the daemon's HTTP API (creating it once)",
		Long: `api-token prints the bearer token every request to the daemon's API needs
(Authorization: Bearer TOKEN). It lives in <user config dir>/modup/api-token,
readable by you only, and is created by the first daemon started with --listen
(or by this command). --rotate replaces it; restart the daemon to use the new one.`,
		Example: `  modup api-token
  curl -H "Authorization: Bearer $(modup api-token)" http://127.0.0.1:7391/v1/packages
  modup api-token --rotate`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := a.tokenPath()
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			var token string
			if rotate {
				token, err = api.RotateToken(path)
				if err == nil {
					printf(a.stderr, "modup: wrote a new token to %s; restart the daemon to use it\n", path)
				}
			} else {
				var created bool
				token, created, err = api.LoadOrCreateToken(path)
				if created {
					printf(a.stderr, "modup: created %s\n", path)
				}
			}
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			printf(a.stdout, "%s\n", token)
			return nil
		},
	}
	c.Flags().BoolVar(&rotate, "rotate", false, "replace the token with a new one")
	return c
}

// uiHost is where a browser on this machine reaches a listen address:
// every interface is reached on loopback.
func uiHost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func (a *app) uiCmd() *cobra.Command {
	var (
		listen string
		noOpen bool
	)
	c := &cobra.Command{
		Use:   "ui",
		Short: "Open the daemon's web page in the browser",
		Long: `ui opens the page of the daemon started with --listen (or daemon.listen) in the
default browser ($BROWSER, else the system's), as
http://127.0.0.1:PORT/#code=...: a login code good for one use within a
minute, which the page trades for the token and keeps for this tab only
(the browser's command line, which other users of the machine can read,
never holds the token; the fragment never reaches a server or a log).
--no-open prints the URL instead.`,
		Example: `  modup ui
  modup ui --listen 127.0.0.1:7391 --no-open`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if listen == "" {
				return &exitError{code: exitFailure, err: errors.New("the daemon's API is off: start it with `modup daemon --listen 127.0.0.1:7391`, or set daemon.listen in the configuration file")}
			}
			if err := config.CheckListen(listen); err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("--listen %w", err)}
			}
			path, err := a.tokenPath()
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			token, err := api.ReadToken(path)
			if errors.Is(err, fs.ErrNotExist) {
				return &exitError{code: exitFailure, err: fmt.Errorf("no API token yet (%s): start `modup daemon --listen %s` first", path, listen)}
			}
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			base := "http://" + uiHost(listen) + "/"
			if err := ping(cmd.Context(), base+"healthz"); err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("no daemon answers at %s (%v): is `modup daemon --listen %s` running?", base, err, listen)}
			}
			code, err := loginCode(cmd.Context(), base, token)
			if err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("the daemon at %s gave no login code: %w (is the token in %s the daemon's?)", base, err, path)}
			}
			url := base + "#code=" + code
			if noOpen {
				printf(a.stdout, "%s\n", url)
				return nil
			}
			if err := a.openBrowser(url); err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("could not open a browser (%v): run `modup ui --no-open` and open the URL it prints", err)}
			}
			printf(a.stdout, "opened %s in the browser\n", base)
			return nil
		},
	}
	c.Flags().StringVar(&listen, "listen", "", "the daemon's listen address (default: daemon.listen)")
	c.Flags().BoolVar(&noOpen, "no-open", false, "print the URL (with a login code good for one use within a minute) instead of opening it")
	return c
}

// loginCode asks the daemon at base for a one-use login code.
func loginCode(ctx context.Context, base, token string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"v1/login-code", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		Code  string `json:"code"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body); err != nil {
		return "", fmt.Errorf("%s: %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK || body.Code == "" {
		return "", fmt.Errorf("%s: %s", resp.Status, body.Error)
	}
	return body.Code, nil
}

// ping GETs url and wants 200.
func ping(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// openBrowser opens url with $BROWSER, else the system's opener. A
// command that fails at once is an error; one still running after a
// moment (a browser itself) is left to run.
func (a *app) openBrowser(url string) error {
	var cmd *exec.Cmd
	if b := strings.TrimSpace(a.getenv("BROWSER")); b != "" {
		first := strings.Split(b, string(os.PathListSeparator))[0]
		cmd = exec.Command(first, url)
	} else {
		switch runtime.GOOS {
		case "darwin":
			cmd = exec.Command("open", url)
		case "windows":
			cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
		default:
			cmd = exec.Command("xdg-open", url)
		}
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(3 * time.Second):
		return nil // a browser that stays open
	}
}
