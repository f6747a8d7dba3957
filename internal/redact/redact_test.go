package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "user and password", in: "https://user:s3cret@host/x/", want: "https://user:xxxxx@host/x/"},
		{name: "user alone (a token)", in: "https://ghp_token@host/x", want: "https://xxxxx@host/x"},
		{name: "no credentials", in: "https://host:8443/a@b/c", want: "https://host:8443/a@b/c"},
		{name: "no path", in: "http://u:p@127.0.0.1:80", want: "http://u:xxxxx@127.0.0.1:80"},
		{name: "query and fragment", in: "https://u:p@h?x=1#y", want: "https://u:xxxxx@h?x=1#y"},
		{name: "escaped at-sign in the password", in: "https://u:p%40ss@h/", want: "https://u:xxxxx@h/"},
		{name: "at-sign in the password", in: "https://u:p@ss@h/", want: "https://u:xxxxx@h/"},
		{name: "IPv6 host", in: "http://u:p@[::1]:8080/", want: "http://u:xxxxx@[::1]:8080/"},
		{name: "file URL", in: "file://u:p@localhost/srv/x", want: "file://u:xxxxx@localhost/srv/x"},
		{name: "quoted in a message, twice", in: `fetch "https://a:b@h/m.json": get https://a:b@h/m.json: 500`,
			want: `fetch "https://xxxxx@h/m.json": get https://a:xxxxx@h/m.json: 500`[:0] + `fetch "https://a:xxxxx@h/m.json": get https://a:xxxxx@h/m.json: 500`},
		{name: "already redacted", in: "https://u:xxxxx@h/", want: "https://u:xxxxx@h/"},
		{name: "e-mail after a URL", in: "see https://h/ or mail me@example.com", want: "see https://h/ or mail me@example.com"},
		{name: "not a URL", in: "user:pw@host", want: "user:pw@host"},
		{name: "empty", in: "", want: ""},
		{name: "scheme at the end", in: "oops://", want: "oops://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := URL(tt.in); got != tt.want {
				t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestError(t *testing.T) {
	if Error(nil) != nil {
		t.Error("Error(nil) != nil")
	}
	clean := errors.New("no url here")
	if Error(clean) != clean {
		t.Error("a clean error was wrapped")
	}
	base := fmt.Errorf("fetch https://u:pw@h/: %w", fs.ErrNotExist)
	err := Error(base)
	if err.Error() != "fetch https://u:xxxxx@h/: file does not exist" {
		t.Errorf("Error() = %q", err)
	}
	if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, base) {
		t.Error("errors.Is no longer sees the wrapped error")
	}
}
