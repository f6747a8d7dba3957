package sources

import (
	"fmt"
	"strings"
)

// Entry is one registered source kind: Match says whether it handles an
// update_url.
type Entry struct {
	Kind string
	// Name tells entries of one kind apart ("github ghe.example.com");
	// empty means Kind.
	Name   string
	Match  func(updateURL string) bool
	Source Source
}

func (e Entry) name() string {
	if e.Name != "" {
		return e.Name
	}
	return e.Kind
}

// Registry picks a source for an update_url. Entries are tried in the order
// they were registered; the first match wins. Build it in one place (see
// updater.DefaultRegistry); tests build their own.
type Registry struct {
	entries []Entry
}

// Register adds a source. Registering one name twice panics: that is a
// wiring mistake, not a runtime condition.
func (r *Registry) Register(e Entry) {
	for _, old := range r.entries {
		if old.name() == e.name() {
			panic(fmt.Sprintf("sources: %q registered twice", e.name()))
		}
	}
	r.entries = append(r.entries, e)
}

// For returns the source for updateURL.
func (r *Registry) For(updateURL string) (Source, error) {
	u := strings.TrimSpace(updateURL)
	if u == "" {
		return nil, fmt.Errorf("empty update_url: %w", ErrUnsupported)
	}
	for _, e := range r.entries {
		if e.Match(u) {
			return e.Source, nil
		}
	}
	return nil, fmt.Errorf("%q: %w (use https://github.com/OWNER/REPO, https://gitlab.com/GROUP/PROJECT, https://gist.github.com/USER/ID, an https:// folder URL, or a folder path)", updateURL, ErrUnsupported)
}

// Kinds lists the registered kinds, in order.
func (r *Registry) Kinds() []string {
	out := make([]string, len(r.entries))
	for i, e := range r.entries {
		out[i] = e.Kind
	}
	return out
}
