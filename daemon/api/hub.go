package api

import (
	"errors"
	"sync"
	"time"

	"github.com/modup/modup/daemon"
)

// ErrTooManyStreams: the cap on concurrent event streams is reached.
var ErrTooManyStreams = errors.New("too many event streams")

// streamBuffer is how many events a slow stream may fall behind before
// it loses some (it is told how many).
const streamBuffer = 256

// progressEvery thins out a download's progress events per package: the
// first, the last, and at most one per this interval between.
const progressEvery = 100 * time.Millisecond

// Hub fans the daemon's events out to the event streams. Observe never
// waits: a stream that cannot keep up loses events, and its next event
// says how many it lost.
type Hub struct {
	max int

	mu       sync.Mutex
	subs     map[*stream]struct{}
	seq      uint64
	progress map[string]time.Time // last progress event passed on, per package
	closed   bool
}

var _ daemon.Observer = (*Hub)(nil)

// NewHub returns a hub serving at most max concurrent streams.
func NewHub(max int) *Hub {
	return &Hub{max: max, subs: map[*stream]struct{}{}, progress: map[string]time.Time{}}
}

// stream is one subscriber.
type stream struct {
	ch      chan sseEvent
	mu      sync.Mutex
	dropped int // events lost since the last one delivered
	done    chan struct{}
}

// sseEvent is an event with its sequence number.
type sseEvent struct {
	id      uint64
	event   daemon.Event
	dropped int // events lost before this one
}

// subscribe adds a stream, unless the cap is reached.
func (h *Hub) subscribe() (*stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errors.New("the daemon is stopping")
	}
	if len(h.subs) >= h.max {
		return nil, ErrTooManyStreams
	}
	s := &stream{ch: make(chan sseEvent, streamBuffer), done: make(chan struct{})}
	h.subs[s] = struct{}{}
	return s, nil
}

func (h *Hub) unsubscribe(s *stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.done)
	}
}

// Streams is how many event streams are open.
func (h *Hub) Streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Close ends every stream.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.done)
	}
}

// Observe implements daemon.Observer.
func (h *Hub) Observe(e daemon.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) == 0 {
		return
	}
	if e.Type == daemon.EventProgress {
		last, seen := h.progress[e.Package]
		final := e.Total > 0 && e.Done >= e.Total
		if seen && !final && e.Done != 0 && e.Time.Sub(last) < progressEvery {
			return
		}
		if final {
			delete(h.progress, e.Package)
		} else {
			h.progress[e.Package] = e.Time
		}
	}
	h.seq++
	for s := range h.subs {
		s.mu.Lock()
		select {
		case s.ch <- sseEvent{id: h.seq, event: e, dropped: s.dropped}:
			s.dropped = 0
		default:
			s.dropped++
		}
		s.mu.Unlock()
	}
}
