package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/modup/modup/daemon"
	"github.com/modup/modup/internal/archive"
	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/updater"
)

// writeJSON writes v with status code. The encoding is the CLI's: two-space
// indent, HTML left as it is.
func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		code = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"encode the answer"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// Holder names the process holding a package's lock in a 409 answer.
type Holder struct {
	PID     int       `json:"pid,omitempty"`
	Command string    `json:"command,omitempty"`
	Since   time.Time `json:"since,omitzero"`
}

// errorBody is every error answer: {"error": "..."}, with the lock's
// holder when a package is locked, and the changes when some were made.
type errorBody struct {
	Error    string           `json:"error"`
	Holder   *Holder          `json:"holder,omitempty"`
	Packages []updater.Change `json:"packages,omitempty"`
}

// writeError is the one way errors are answered.
func writeError(w http.ResponseWriter, code int, err error, changes ...updater.Change) {
	body := errorBody{Error: err.Error(), Packages: changes}
	var le *pkgdir.LockedError
	if errors.As(err, &le) {
		body.Holder = &Holder{PID: le.PID, Command: le.Command, Since: le.Since}
	}
	writeJSON(w, code, body)
}

// errorStatus is the HTTP status of an error of the daemon.
func errorStatus(err error) int {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, pkgdir.ErrNoPackage), errors.Is(err, pkgdir.ErrNoBackup):
		return http.StatusNotFound
	case errors.Is(err, pkgdir.ErrLocked), errors.Is(err, updater.ErrModified):
		return http.StatusConflict
	case errors.Is(err, daemon.ErrStopped), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	case errors.Is(err, updater.ErrNotComparable):
		return http.StatusBadRequest
	case errors.Is(err, sources.ErrUnreleased):
		return http.StatusNotFound // --to a version that is not released
	case errors.Is(err, sources.ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, sources.ErrNotFound), errors.Is(err, sources.ErrInvalid), errors.Is(err, sources.ErrInsecure),
		errors.Is(err, sources.ErrUnsupported), errors.Is(err, updater.ErrChecksum), errors.Is(err, updater.ErrSize),
		errors.Is(err, archive.ErrCorrupt), errors.Is(err, archive.ErrHostile), errors.Is(err, archive.ErrNoManifest),
		errors.Is(err, archive.ErrTooLarge), errors.Is(err, httpx.ErrStalled), errors.Is(err, httpx.ErrTooLarge),
		errors.Is(err, httpx.ErrFetchTimeout), errors.Is(err, httpx.ErrTooSlow), errors.Is(err, context.DeadlineExceeded):
		return http.StatusBadGateway // the source failed us, or served what modup refuses
	}
	return http.StatusInternalServerError
}

// readBody decodes an optional JSON body into v: empty is fine, unknown
// fields are not.
func readBody(r *http.Request, v any) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: the request body: %v", errBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: the request body holds more than one JSON value", errBadRequest)
	}
	return nil
}

var errBadRequest = errors.New("bad request")

// fail answers err with its status.
func fail(w http.ResponseWriter, err error) {
	code := errorStatus(err)
	if errors.Is(err, errBadRequest) {
		code = http.StatusBadRequest
	}
	writeError(w, code, err)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, "ok\n")
}

// status is GET /v1/status: the daemon's own state.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	in, err := s.opts.Backend.Info(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, in)
}

// packages is GET /v1/packages: `modup status --json`.
func (s *Server) packages(w http.ResponseWriter, r *http.Request) {
	sts, err := daemon.Statuses(s.opts.Backend.Roots(), "")
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"packages": sts})
}

// onePackage is GET /v1/packages/{name}: one entry of /v1/packages (the
// first root's, when several hold the name).
func (s *Server) onePackage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	sts, err := daemon.Statuses(s.opts.Backend.Roots(), name)
	if err != nil {
		fail(w, err)
		return
	}
	if len(sts) == 0 {
		fail(w, fmt.Errorf("%s: %w", name, pkgdir.ErrNoPackage))
		return
	}
	writeJSON(w, http.StatusOK, sts[0])
}

// checkRequest is POST /v1/check's optional body.
type checkRequest struct {
	Names []string `json:"names"`
}

// check is POST /v1/check: checks now and answers with `modup check
// --json`'s values once all are done.
func (s *Server) check(w http.ResponseWriter, r *http.Request) {
	var req checkRequest
	if err := readBody(r, &req); err != nil {
		fail(w, err)
		return
	}
	res, err := s.opts.Backend.Check(r.Context(), req.Names)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"packages": res})
}

// updateRequest is the optional body of POST /v1/update[/{name}].
type updateRequest struct {
	// Names limits POST /v1/update to these packages.
	Names []string `json:"names,omitempty"`
	// To installs exactly this version (one package only).
	To string `json:"to,omitempty"`
	// Force replaces a package whose files were changed.
	Force bool `json:"force,omitempty"`
}

// updateAll is POST /v1/update: every package (or the names given),
// going on past failures as `modup update --all` does. It answers 200
// with each package's change, failures included, as `update --json`.
func (s *Server) updateAll(w http.ResponseWriter, r *http.Request) {
	var req updateRequest
	if err := readBody(r, &req); err != nil {
		fail(w, err)
		return
	}
	if req.To != "" && len(req.Names) != 1 {
		fail(w, fmt.Errorf("%w: \"to\" needs exactly one package: POST /v1/update/NAME", errBadRequest))
		return
	}
	chs, err := s.opts.Backend.Update(r.Context(), req.Names, updater.UpdateOptions{To: req.To, Force: req.Force, By: "api"})
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"packages": chs})
}

// updateOne is POST /v1/update/{name}.
func (s *Server) updateOne(w http.ResponseWriter, r *http.Request) {
	var req updateRequest
	if err := readBody(r, &req); err != nil {
		fail(w, err)
		return
	}
	if len(req.Names) > 0 {
		fail(w, fmt.Errorf("%w: \"names\" is for POST /v1/update", errBadRequest))
		return
	}
	chs, err := s.opts.Backend.Update(r.Context(), []string{r.PathValue("name")}, updater.UpdateOptions{To: req.To, Force: req.Force, By: "api"})
	if err != nil {
		fail(w, err)
		return
	}
	s.answerChanges(w, chs)
}

// rollbackRequest is POST /v1/rollback/{name}'s optional body.
type rollbackRequest struct {
	To string `json:"to,omitempty"`
}

// rollback is POST /v1/rollback/{name}.
func (s *Server) rollback(w http.ResponseWriter, r *http.Request) {
	var req rollbackRequest
	if err := readBody(r, &req); err != nil {
		fail(w, err)
		return
	}
	ch, err := s.opts.Backend.Rollback(r.Context(), r.PathValue("name"), updater.RollbackOptions{To: req.To, By: "api"})
	if err != nil {
		fail(w, err)
		return
	}
	s.answerChanges(w, []updater.Change{ch})
}

// answerChanges answers the changes of one package: 200 unless one
// failed, then the failure's status (409 for a lock held, naming the
// holder) with the changes.
func (s *Server) answerChanges(w http.ResponseWriter, chs []updater.Change) {
	for _, ch := range chs {
		if ch.Status == updater.StatusFailed {
			err := ch.Err
			if err == nil {
				err = errors.New(ch.Error)
			}
			writeError(w, errorStatus(err), err, chs...)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"packages": chs})
}

// holdRequest is POST /v1/hold/{name}'s optional body.
type holdRequest struct {
	Reason string `json:"reason,omitempty"`
}

// hold is POST /v1/hold/{name}: `modup hold NAME [--reason TEXT]`.
func (s *Server) hold(w http.ResponseWriter, r *http.Request) {
	var req holdRequest
	if err := readBody(r, &req); err != nil {
		fail(w, err)
		return
	}
	ch, err := s.opts.Backend.Hold(r.Context(), r.PathValue("name"), updater.HoldOptions{Reason: req.Reason, By: "api"})
	if err != nil {
		fail(w, err)
		return
	}
	s.answerChanges(w, []updater.Change{ch})
}

// unhold is POST /v1/unhold/{name}: `modup unhold NAME`.
func (s *Server) unhold(w http.ResponseWriter, r *http.Request) {
	if err := readBody(r, &struct{}{}); err != nil {
		fail(w, err)
		return
	}
	ch, err := s.opts.Backend.Unhold(r.Context(), r.PathValue("name"), updater.HoldOptions{By: "api"})
	if err != nil {
		fail(w, err)
		return
	}
	s.answerChanges(w, []updater.Change{ch})
}

// history is GET /v1/history[?name=][&limit=]: `modup history --json`.
func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fail(w, fmt.Errorf("%w: limit=%q: want 0 (all) or more", errBadRequest, v))
			return
		}
		limit = n
	}
	h, err := pkgdir.ReadHistory(s.opts.Backend.Roots(), r.URL.Query().Get("name"), limit)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"history": h})
}

// events is GET /v1/events: Server-Sent Events, one per daemon event
// ("event: installed" and "data: {...}", the Event as JSON), with a
// keep-alive comment every Heartbeat. A stream that falls behind loses
// events; the next one it gets follows a ": lost N events" comment.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	st, err := s.opts.Hub.subscribe()
	if err != nil {
		if errors.Is(err, ErrTooManyStreams) {
			err = fmt.Errorf("%w: at most %d at once; close one", err, s.opts.Hub.max)
		}
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	defer s.opts.Hub.unsubscribe(st)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, ": modup events\nretry: 3000\n\n")
	if err := rc.Flush(); err != nil {
		return // not a stream: nothing more can be said
	}
	beat := time.NewTicker(s.opts.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-st.done:
			return
		case <-beat.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
			rc.Flush()
		case ev := <-st.ch:
			data, err := json.Marshal(ev.event)
			if err != nil {
				continue
			}
			var b bytes.Buffer
			if ev.dropped > 0 {
				fmt.Fprintf(&b, ": lost %d events\n", ev.dropped)
			}
			fmt.Fprintf(&b, "id: %d\nevent: %s\ndata: %s\n\n", ev.id, ev.event.Type, data)
			if _, err := w.Write(b.Bytes()); err != nil {
				return
			}
			rc.Flush()
		}
	}
}
