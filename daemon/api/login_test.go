package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/daemon/api"
)

// A login code is had with the token, and trades for the token once,
// within a minute; an unknown, used or expired code is refused, and only
// the newest 16 codes wait.
func TestLoginCodes(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := startService(t, serviceOpts{now: clock})

	issue := func() string {
		t.Helper()
		resp, body := s.call(t, "POST", "/v1/login-code", "")
		var got struct {
			Code      string `json:"code"`
			ExpiresIn int    `json:"expires_in"`
		}
		if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != http.StatusOK || len(got.Code) < 40 || got.ExpiresIn != int(api.LoginCodeTTL.Seconds()) {
			t.Fatalf("login-code: %s %s", resp.Status, body)
		}
		return got.Code
	}
	login := func(code string) (int, string) {
		t.Helper()
		resp, err := http.Post(s.base+"/v1/login", "application/json", strings.NewReader(`{"code":"`+code+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct{ Token, Error string }
		json.NewDecoder(resp.Body).Decode(&got)
		if resp.StatusCode == http.StatusOK {
			return resp.StatusCode, got.Token
		}
		return resp.StatusCode, got.Error
	}

	req, _ := http.NewRequest("POST", s.base+"/v1/login-code", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("login-code without the token: %v %v", resp.Status, err)
	}

	code := issue()
	if status, got := login(code); status != http.StatusOK || got != testToken {
		t.Errorf("first use: %d %q", status, got)
	}
	if status, got := login(code); status != http.StatusUnauthorized || !strings.Contains(got, "used already or has expired: run `modup ui` again") {
		t.Errorf("second use: %d %q", status, got)
	}
	if status, _ := login("nosuchcode"); status != http.StatusUnauthorized {
		t.Errorf("an unknown code: %d", status)
	}
	if status, _ := login(""); status != http.StatusUnauthorized {
		t.Errorf("no code: %d", status)
	}

	late := issue()
	advance(api.LoginCodeTTL + time.Second)
	if status, _ := login(late); status != http.StatusUnauthorized {
		t.Errorf("a code past its minute: %d", status)
	}

	first := issue()
	var last string
	for range 16 {
		advance(time.Millisecond)
		last = issue()
	}
	if status, _ := login(first); status != http.StatusUnauthorized {
		t.Errorf("the oldest of 17 waiting codes still works: %d", status)
	}
	if status, got := login(last); status != http.StatusOK || got != testToken {
		t.Errorf("the newest code: %d %q", status, got)
	}
}
