package sources

import (
	"fmt"
	"strings"
)

// KindError is a message that errors.Is matches against a sentinel
// (ErrNotFound, ErrUnreleased, ErrInvalid, ...) without the sentinel's text
// repeated in it.
type KindError struct {
	Kind error
	Msg  string
}

// KindErrorf formats a message that errors.Is matches against kind.
func KindErrorf(kind error, format string, args ...any) *KindError {
	return &KindError{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

func (e *KindError) Error() string { return e.Msg }

// Unwrap exposes the sentinel.
func (e *KindError) Unwrap() error { return e.Kind }

// UnreleasedError says that want has no published release under any of
// tags, for a subject (the package, else the repository): why, when set,
// says what could not be asked.
func UnreleasedError(subject string, want Release, tags []string, why string) error {
	var b strings.Builder
	b.WriteString(subject + " " + want.Version + ": ")
	if want.Origin == "request" {
		b.WriteString("no release is published")
	} else {
		b.WriteString("the manifest names " + want.Version + " but no release is published")
	}
	b.WriteString(" for tag " + strings.Join(tags, " or "))
	if want.Origin == "request" && why == "" {
		b.WriteString(" (nor under a tag equal to it as semver)")
	}
	if why != "" {
		b.WriteString(" (" + why + ")")
	}
	return &KindError{Kind: ErrUnreleased, Msg: b.String()}
}
