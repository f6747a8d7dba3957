package updater

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources"
)

// Download outcomes callers branch on.
var (
	// ErrChecksum: the payload's sha256 differs from the declared one.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrSize: the payload is larger than allowed, or differs from its declared size.
	ErrSize = errors.New("size mismatch")
)

// DefaultMaxSize caps a download unless Updater.MaxSize says otherwise.
const DefaultMaxSize = 512 << 20

// downloadAttempts is how often a payload is fetched when the connection
// breaks mid-body (the HTTP client already retries before the body).
const downloadAttempts = 3

// bodyError marks a failure while the payload's body was being read: the
// only kind download retries itself. Everything before the body (status
// codes, refused or reset connections) the HTTP client has retried
// already; trying its retries again would be a retry storm.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// download streams rel's payload into a temporary file of package name
// under <root>/.modup/tmp/, hashing while it writes, and verifies size and
// digest. It returns the file's path and its sha256 (hex); the caller
// removes the file. A broken
// connection mid-body is retried from the start; a partial file never
// survives an error.
func (u *Updater) download(ctx context.Context, l pkgdir.Layout, name string, src sources.Source, rel sources.Release) (path, digest string, err error) {
	for attempt := 1; ; attempt++ {
		path, digest, err = u.downloadOnce(ctx, l, name, src, rel)
		if err == nil {
			return path, digest, nil
		}
		var be *bodyError
		if attempt >= downloadAttempts || !errors.As(err, &be) || !transient(err) || ctx.Err() != nil {
			return "", "", err
		}
		wait := time.Duration(attempt) * u.retryWait()
		u.logger().Warn("download interrupted; trying again", "package", name, "version", rel.Version, "attempt", attempt, "error", err.Error())
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (u *Updater) retryWait() time.Duration {
	if u.RetryWait > 0 {
		return u.RetryWait
	}
	return time.Second
}

// transient reports whether a body that failed to arrive may arrive whole
// when asked for again.
func transient(err error) bool {
	switch {
	case errors.Is(err, ErrChecksum), errors.Is(err, ErrSize), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, httpx.ErrStalled) || errors.Is(err, syscall.EPIPE)
}

func (u *Updater) maxSize() int64 {
	if u.MaxSize > 0 {
		return u.MaxSize
	}
	return DefaultMaxSize
}

func (u *Updater) downloadOnce(ctx context.Context, l pkgdir.Layout, name string, src sources.Source, rel sources.Release) (path, digest string, err error) {
	max := u.maxSize()
	if rel.Size > max {
		return "", "", fmt.Errorf("%s %s: the release declares %d bytes, more than --max-size %d: %w", name, rel.Version, rel.Size, max, ErrSize)
	}
	p, err := src.Open(ctx, rel)
	if err != nil {
		return "", "", fmt.Errorf("download %s %s: %w", name, rel.Version, err)
	}
	defer p.Body.Close()
	if p.Size > max {
		return "", "", fmt.Errorf("download %s %s: %s is %d bytes, more than --max-size %d: %w", name, rel.Version, redact.URL(rel.PayloadURL), p.Size, max, ErrSize)
	}
	f, err := l.CreateTemp(name, "download-*.zip")
	if err != nil {
		return "", "", err
	}
	defer func() {
		cerr := f.Close()
		if err == nil && cerr != nil {
			err = fmt.Errorf("download %s %s: %w", name, rel.Version, cerr)
		}
		if err != nil {
			_ = l.RemoveTemp(f.Name())
		}
	}()
	total := p.Size
	if total < 0 && rel.Size > 0 {
		total = rel.Size
	}
	h := sha256.New()
	var w io.Writer = io.MultiWriter(f, h)
	if u.Progress != nil {
		w = &progressWriter{w: w, name: name, total: total, report: u.Progress}
		u.Progress(name, 0, total)
	}
	buf := make([]byte, 1<<20)
	n, err := io.CopyBuffer(w, io.LimitReader(p.Body, max+1), buf)
	if err != nil {
		return "", "", fmt.Errorf("download %s %s from %s: %w", name, rel.Version, redact.URL(rel.PayloadURL), &bodyError{err})
	}
	switch {
	case n > max:
		return "", "", fmt.Errorf("download %s %s: %s is larger than --max-size %d: %w", name, rel.Version, redact.URL(rel.PayloadURL), max, ErrSize)
	case p.Size >= 0 && n != p.Size:
		return "", "", fmt.Errorf("download %s %s: got %d of %d bytes from %s: %w", name, rel.Version, n, p.Size, redact.URL(rel.PayloadURL), &bodyError{io.ErrUnexpectedEOF})
	case rel.Size > 0 && n != rel.Size:
		from := rel.SizeFrom
		if from == "" {
			from = "the release"
		}
		return "", "", fmt.Errorf("download %s %s: %s is %d bytes but %s says %d (a stale size, or a changed or truncated zip): %w",
			name, rel.Version, redact.URL(rel.PayloadURL), n, from, rel.Size, ErrSize)
	}
	digest = hex.EncodeToString(h.Sum(nil))
	if want := strings.ToLower(strings.TrimSpace(rel.SHA256)); want != "" {
		if got := digest; got != want {
			return "", "", fmt.Errorf("download %s %s: sha256 of %s is %s, the release declares %s; nothing was changed: %w",
				name, rel.Version, redact.URL(rel.PayloadURL), got, want, ErrChecksum)
		}
	}
	return f.Name(), digest, nil
}

// isHTMLFile reports whether the file at path starts like an HTML page:
// what a captive portal serves in place of a zip.
func isHTMLFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	return httpx.LooksLikeHTML(head[:n])
}

type progressWriter struct {
	w      io.Writer
	name   string
	done   int64
	total  int64
	report func(name string, done, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.report(p.name, p.done, p.total)
	return n, err
}
