package daemon

import (
	"time"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// EventType names what happened.
type EventType string

// Event types: the API's event stream sends each as the SSE event name,
// webhooks the ones a user cares about (update-available, installed,
// failed, rolled-back).
const (
	EventCheckStarted    EventType = "check-started"
	EventCheckFinished   EventType = "check-finished" // Status "error" when the check failed
	EventUpdateAvailable EventType = "update-available"
	EventProgress        EventType = "download-progress"
	EventInstalled       EventType = "installed" // an update or an install succeeded
	EventFailed          EventType = "failed"    // an update, install or rollback failed
	EventRolledBack      EventType = "rolled-back"
)

// EventTypes lists every event type, in the order above.
func EventTypes() []EventType {
	return []EventType{EventCheckStarted, EventCheckFinished, EventUpdateAvailable, EventProgress,
		EventInstalled, EventFailed, EventRolledBack}
}

// Event is one thing that happened to a package, as the API's event
// stream and webhooks send it (JSON).
type Event struct {
	Type    EventType `json:"type"`
	Time    time.Time `json:"time"`
	Package string    `json:"package"`
	Root    string    `json:"root,omitempty"`
	// Status is the check's (check-finished) or the change's
	// (installed, failed, rolled-back).
	Status    updater.Status `json:"status,omitempty"`
	Installed string         `json:"installed,omitempty"`
	Available string         `json:"available,omitempty"`
	From      string         `json:"from,omitempty"`
	To        string         `json:"to,omitempty"`
	News      string         `json:"news,omitempty"`
	Error     string         `json:"error,omitempty"`
	// Action is the change an installed, failed or rolled-back event is
	// about (update, install, rollback), as the history names it.
	Action pkgdir.HistoryAction `json:"action,omitempty"`
	// Done and Total are a download's progress in bytes (Total -1 when
	// unknown).
	Done  int64 `json:"done,omitempty"`
	Total int64 `json:"total,omitempty"`
	// Seconds is how long a finished check or change took.
	Seconds float64 `json:"seconds,omitempty"`
}

// Observer is told of every event. Observe is called from the goroutine
// that does the work (a check, a download): it must return at once, never
// waiting on a slow reader or a remote.
type Observer interface {
	Observe(Event)
}

// publish tells every observer of e.
func (d *Daemon) publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	for _, o := range d.opts.Observers {
		o.Observe(e)
	}
}

// progress is the updater's Progress callback: every step of a download
// becomes an event (observers that show it thin them out).
func (d *Daemon) progress(name string, done, total int64) {
	d.publish(Event{Type: EventProgress, Package: name, Done: done, Total: total})
}

// publishChange tells observers how a change of a package ended; changes
// that did nothing (skipped, up to date) are not events.
func (d *Daemon) publishChange(root string, action pkgdir.HistoryAction, ch updater.Change, took time.Duration) {
	e := Event{Package: ch.Name, Root: root, Status: ch.Status, From: ch.From, To: ch.To, News: ch.News,
		Error: ch.Error, Action: action, Seconds: took.Seconds()}
	switch ch.Status {
	case updater.StatusUpdated, updater.StatusInstalled:
		e.Type = EventInstalled
	case updater.StatusRolledBack:
		e.Type = EventRolledBack
	case updater.StatusFailed:
		e.Type = EventFailed
	default:
		return
	}
	d.publish(e)
}
