package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"time"
)

// Login codes let `modup ui` open the page without putting the token on a
// command line: it asks for a code with the token (POST /v1/login-code)
// and opens the page with the code in the URL's fragment; the page trades
// it for the token once (POST /v1/login). A code is good for one use
// within LoginCodeTTL, so the browser's command line, which other local
// users can read, carries nothing that still opens the API.

// LoginCodeTTL is how long a login code can be traded for the token.
const LoginCodeTTL = time.Minute

// maxLoginCodes bounds the codes waiting to be used.
const maxLoginCodes = 16

// loginCodes are the codes not yet used, with when each expires.
type loginCodes struct {
	mu    sync.Mutex
	codes map[string]time.Time
}

// issue makes a code valid until now+LoginCodeTTL, forgetting expired
// ones (and the oldest when too many wait).
func (l *loginCodes) issue(now time.Time) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	code := base64.RawURLEncoding.EncodeToString(b)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.codes == nil {
		l.codes = map[string]time.Time{}
	}
	var oldest string
	for c, exp := range l.codes {
		if !now.Before(exp) {
			delete(l.codes, c)
			continue
		}
		if oldest == "" || exp.Before(l.codes[oldest]) {
			oldest = c
		}
	}
	if len(l.codes) >= maxLoginCodes {
		delete(l.codes, oldest)
	}
	l.codes[code] = now.Add(LoginCodeTTL)
	return code, nil
}

// use reports whether code is valid at now, and forgets it.
func (l *loginCodes) use(code string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c, exp := range l.codes {
		if subtle.ConstantTimeCompare([]byte(c), []byte(code)) == 1 {
			delete(l.codes, c)
			return now.Before(exp)
		}
	}
	return false
}

// loginCode is POST /v1/login-code (with the token): a code the page can
// trade for the token once, within LoginCodeTTL.
func (s *Server) loginCode(w http.ResponseWriter, r *http.Request) {
	if err := readBody(r, &struct{}{}); err != nil {
		fail(w, err)
		return
	}
	code, err := s.logins.issue(s.now())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"code": code, "expires_in": int(LoginCodeTTL.Seconds())})
}

// login is POST /v1/login {"code": "..."} (no token): the token, once per
// code.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code string `json:"code"`
	}
	if err := readBody(r, &req); err != nil {
		fail(w, err)
		return
	}
	if req.Code == "" || !s.logins.use(req.Code, s.now()) {
		writeError(w, http.StatusUnauthorized, errors.New("this login link was used already or has expired: run `modup ui` again, or paste the token `modup api-token` prints"))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"token": s.opts.Token})
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}
