package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/modup/modup/daemon"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources/github"
	"github.com/modup/modup/updater"
)

// Metrics is what /metrics serves, on a registry of its own: counters and
// durations fed by the daemon's events (Observe), and gauges read from
// the daemon when scraped (packages by status, updates available, last
// checks, GitHub's quota).
type Metrics struct {
	reg *prometheus.Registry

	checks          *prometheus.CounterVec
	installs        *prometheus.CounterVec
	downloadBytes   prometheus.Counter
	checkDuration   prometheus.Histogram
	installDuration prometheus.Histogram

	mu         sync.Mutex
	downloaded map[string]int64 // bytes of each download in progress counted so far
}

var _ daemon.Observer = (*Metrics)(nil)

// NewMetrics registers modup's metrics on a new registry; ReadFrom adds
// the gauges read from the daemon.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modup_checks_total", Help: "Checks of packages, by result (the status found).",
		}, []string{"result"}),
		installs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modup_installs_total", Help: "Installs and updates of packages, by result (updated, installed, failed).",
		}, []string{"result"}),
		downloadBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "modup_download_bytes_total", Help: "Bytes of release payloads downloaded.",
		}),
		checkDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "modup_check_duration_seconds", Help: "How long a check of one package took.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		installDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "modup_install_duration_seconds", Help: "How long an install or update of one package took, download included.",
			Buckets: []float64{.1, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}),
		downloaded: map[string]int64{},
	}
	m.reg.MustRegister(m.checks, m.installs, m.downloadBytes, m.checkDuration, m.installDuration)
	return m
}

// ReadFrom adds the gauges read from state at each scrape: packages by
// status, updates available, last checks, GitHub's quota. Call it once.
func (m *Metrics) ReadFrom(state StateSource) {
	m.reg.MustRegister(&stateCollector{src: state})
}

// StateSource is what the gauges are read from: the daemon.
type StateSource interface {
	Snapshot(ctx context.Context) ([]daemon.Known, error)
	Updater() *updater.Updater
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Registry is the metrics' own registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Observe implements daemon.Observer.
func (m *Metrics) Observe(e daemon.Event) {
	switch e.Type {
	case daemon.EventCheckFinished:
		m.checks.WithLabelValues(string(e.Status)).Inc()
		m.checkDuration.Observe(e.Seconds)
	case daemon.EventProgress:
		m.mu.Lock()
		last := m.downloaded[e.Package]
		if e.Done < last {
			last = 0 // a new download, or one started again
		}
		m.downloadBytes.Add(float64(e.Done - last))
		m.downloaded[e.Package] = e.Done
		m.mu.Unlock()
	case daemon.EventInstalled, daemon.EventFailed:
		m.mu.Lock()
		delete(m.downloaded, e.Package)
		m.mu.Unlock()
		if e.Action == pkgdir.HistoryUpdate || e.Action == pkgdir.HistoryInstall {
			m.installs.WithLabelValues(string(e.Status)).Inc()
			m.installDuration.Observe(e.Seconds)
		}
	}
}

// stateCollector reads the per-package gauges and GitHub's quota from the
// daemon at each scrape.
type stateCollector struct{ src StateSource }

var (
	descPackages = prometheus.NewDesc("modup_packages",
		"Packages by the status their last check found (unchecked: none yet).", []string{"status"}, nil)
	descUpdateAvailable = prometheus.NewDesc("modup_update_available",
		"1 when the last check of the package found an update, else 0.", []string{"root", "package"}, nil)
	descLastCheck = prometheus.NewDesc("modup_last_check_timestamp_seconds",
		"When the package was last checked (Unix time).", []string{"root", "package"}, nil)
	descRateRemaining = prometheus.NewDesc("modup_github_rate_limit_remaining",
		"Requests left in the GitHub API's quota, as its last answer stated.", []string{"host"}, nil)
)

// scrapeTimeout bounds a scrape's wait for the daemon.
const scrapeTimeout = 5 * time.Second

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPackages, descUpdateAvailable, descLastCheck, descRateRemaining} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	known, err := c.src.Snapshot(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descPackages, err)
		return
	}
	byStatus := map[string]int{}
	for _, k := range known {
		st := string(k.State.Status)
		if st == "" {
			st = "unchecked"
		}
		byStatus[st]++
		avail := 0.0
		if k.State.Status == updater.StatusUpdateAvailable {
			avail = 1
		}
		ch <- prometheus.MustNewConstMetric(descUpdateAvailable, prometheus.GaugeValue, avail, k.Root, k.Name)
		if !k.State.LastCheck.IsZero() {
			ch <- prometheus.MustNewConstMetric(descLastCheck, prometheus.GaugeValue, float64(k.State.LastCheck.UnixMilli())/1000, k.Root, k.Name)
		}
	}
	for st, n := range byStatus {
		ch <- prometheus.MustNewConstMetric(descPackages, prometheus.GaugeValue, float64(n), st)
	}
	var limits []github.RateLimit
	if u := c.src.Updater(); u != nil && u.Sources != nil {
		limits = u.Sources.RateLimits()
	}
	for _, rl := range limits {
		if rl.Known {
			ch <- prometheus.MustNewConstMetric(descRateRemaining, prometheus.GaugeValue, float64(rl.Remaining), rl.Host)
		}
	}
}
