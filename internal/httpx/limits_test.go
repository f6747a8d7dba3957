package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// drip answers 200 with the full Content-Length at once, then one byte of
// body every interval.
func drip(body string, every time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		for i := range len(body) {
			w.Write([]byte{body[i]})
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(every):
			}
		}
	}
}

// noHeaders never answers: it waits until the client goes away.
func noHeaders(w http.ResponseWriter, r *http.Request) {
	<-r.Context().Done()
}

// TestFetchTimeout: small documents and API answers must be complete, and
// every answer's headers must arrive, within FetchTimeout, whatever the
// server's pace and however often the client retries.
func TestFetchTimeout(t *testing.T) {
	fetch := func(ctx context.Context, c *Client, url string) error {
		_, _, err := c.Fetch(ctx, url, nil, 0)
		return err
	}
	apiGet := func(ctx context.Context, c *Client, url string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.HTTPClient().Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		return err
	}
	manifest := `{"name":"x","version":"1.0.0"}` // 31 bytes
	tests := []struct {
		name    string
		handler http.HandlerFunc
		opts    Options
		call    func(ctx context.Context, c *Client, url string) error
		// maxHits bounds the requests the server may see: retries share
		// the deadline instead of each getting their own.
		maxHits int
	}{
		{
			name:    "manifest dripping a byte per 40ms, under the stall timeout",
			handler: drip(manifest, 40*time.Millisecond),
			opts:    Options{StallTimeout: time.Second},
			call:    fetch,
			maxHits: 1,
		},
		{
			name:    "manifest whose server never sends headers, header timeouts retried",
			handler: noHeaders,
			opts:    Options{HeaderTimeout: 100 * time.Millisecond, RetryMax: 10},
			call:    fetch,
			maxHits: 4,
		},
		{
			name:    "HEAD whose server never sends headers",
			handler: noHeaders,
			call: func(ctx context.Context, c *Client, url string) error {
				_, err := c.Stat(ctx, url)
				return err
			},
			maxHits: 1,
		},
		{
			name:    "download whose server never sends headers",
			handler: noHeaders,
			call: func(ctx context.Context, c *Client, url string) error {
				body, _, err := c.Open(ctx, url)
				if err == nil {
					body.Close()
				}
				return err
			},
			maxHits: 1,
		},
		{
			name:    "API answer dripping through HTTPClient",
			handler: drip(`{"tag_name":"v1.0.0","body":"notes"}`, 40*time.Millisecond),
			call:    apiGet,
			maxHits: 1,
		},
		{
			name:    "API whose server never sends headers, through HTTPClient",
			handler: noHeaders,
			opts:    Options{HeaderTimeout: 100 * time.Millisecond, RetryMax: 10},
			call:    apiGet,
			maxHits: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tt.handler)
			o := tt.opts
			o.FetchTimeout = 300 * time.Millisecond
			err := tt.call(t.Context(), testClient(t, o), srv.URL+"/a2modsource.json")
			if !errors.Is(err, ErrFetchTimeout) {
				t.Fatalf("err = %v, want ErrFetchTimeout", err)
			}
			msg := err.Error()
			for _, want := range []string{srv.URL + "/a2modsource.json", "took longer than --fetch-timeout 300ms"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if n := srv.count(); n > tt.maxHits {
				t.Errorf("the server saw %d requests, want at most %d: retries got deadlines of their own", n, tt.maxHits)
			}
		})
	}
}

// TestFetchTimeoutSpares: what the deadline must not cut: a download's
// body (held to the minimum rate instead), a disabled deadline, and a
// request that ends in time.
func TestFetchTimeoutSpares(t *testing.T) {
	body := strings.Repeat("z", 12)
	t.Run("a download body longer than the deadline", func(t *testing.T) {
		srv := newServer(t, drip(body, 40*time.Millisecond))
		c := testClient(t, Options{FetchTimeout: 100 * time.Millisecond, MinRate: -1})
		rc, _, err := c.Open(t.Context(), srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		got, err := io.ReadAll(rc)
		if err != nil || string(got) != body {
			t.Fatalf("read %q, %v", got, err)
		}
	})
	t.Run("a disabled deadline", func(t *testing.T) {
		srv := newServer(t, drip(body, 40*time.Millisecond))
		got, _, err := testClient(t, Options{FetchTimeout: -1}).Fetch(t.Context(), srv.URL, nil, 0)
		if err != nil || string(got) != body {
			t.Fatalf("Fetch = %q, %v", got, err)
		}
	})
	t.Run("the caller's cancellation is not a timeout", func(t *testing.T) {
		srv := newServer(t, noHeaders)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, _, err := testClient(t, Options{FetchTimeout: time.Hour}).Fetch(ctx, srv.URL, nil, 0)
		if err == nil || errors.Is(err, ErrFetchTimeout) {
			t.Fatalf("err = %v, want the context's error, not ErrFetchTimeout", err)
		}
	})
}

// TestMinRate: a download that averages less than MinRate over a window
// fails saying so; a download above it, or with the check off, does not.
func TestMinRate(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		opts    Options
		want    string // error text; "" for success
	}{
		{
			name:    "a byte per 40ms against 1KiB/s",
			handler: drip(strings.Repeat("z", 200), 40*time.Millisecond),
			opts:    Options{MinRate: 1 << 10, MinRateWindow: 200 * time.Millisecond},
			want:    "over 200ms, under --min-rate 1KiB/s",
		},
		{
			name: "64 KiB per 20ms against 1KiB/s",
			handler: func(w http.ResponseWriter, r *http.Request) {
				chunk := make([]byte, 64<<10)
				for range 20 {
					if _, err := w.Write(chunk); err != nil {
						return
					}
					w.(http.Flusher).Flush()
					time.Sleep(20 * time.Millisecond)
				}
			},
			opts: Options{MinRate: 1 << 10, MinRateWindow: 100 * time.Millisecond},
		},
		{
			name:    "a byte per 40ms with the check off",
			handler: drip(strings.Repeat("z", 8), 40*time.Millisecond),
			opts:    Options{MinRate: -1, MinRateWindow: 50 * time.Millisecond},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tt.handler)
			o := tt.opts
			o.StallTimeout = 5 * time.Second // never the cause here
			body, _, err := testClient(t, o).Open(t.Context(), srv.URL+"/1.0.0.zip")
			if err != nil {
				t.Fatal(err)
			}
			defer body.Close()
			_, err = io.Copy(io.Discard, body)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("download failed: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrTooSlow) {
				t.Fatalf("err = %v, want ErrTooSlow", err)
			}
			msg := err.Error()
			for _, want := range []string{srv.URL + "/1.0.0.zip", "averaged ", " B/s " + tt.want} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    Rate
		str     string
		wantErr bool
	}{
		{in: "0", want: 0, str: "0"},
		{in: "1KiB", want: 1024, str: "1KiB/s"},
		{in: "1KiB/s", want: 1024, str: "1KiB/s"},
		{in: "1kib", want: 1024, str: "1KiB/s"},
		{in: "512", want: 512, str: "512B/s"},
		{in: "512B", want: 512, str: "512B/s"},
		{in: "1.5MiB", want: 3 << 19, str: "1536KiB/s"},
		{in: "2MiB", want: 2 << 20, str: "2MiB/s"},
		{in: "1GiB", want: 1 << 30, str: "1GiB/s"},
		{in: "10kB", want: 10000, str: "10000B/s"},
		{in: " 3 KiB ", want: 3072, str: "3KiB/s"},
		{in: "", wantErr: true},
		{in: "KiB", wantErr: true},
		{in: "-1KiB", wantErr: true},
		{in: "1 parsec", wantErr: true},
		{in: "1e400", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var r Rate
			err := r.Set(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Set(%q) = %v, want error: %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), strconv.Quote(tt.in)) {
					t.Errorf("error %q does not quote the value", err)
				}
				return
			}
			if r != tt.want || r.String() != tt.str {
				t.Errorf("Set(%q) = %d (%s), want %d (%s)", tt.in, r, r, tt.want, tt.str)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		300 * time.Millisecond: "300ms",
		time.Second:            "1s",
		60 * time.Second:       "60s",
		90 * time.Second:       "90s",
		5 * time.Minute:        "5m",
		150 * time.Second:      "2m30s",
		time.Hour:              "1h",
		90 * time.Minute:       "1h30m",
		0:                      "0s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
