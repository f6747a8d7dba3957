package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Duration is a TOML string such as "30s", "6h" or "1h30m".
type Duration struct{ D time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%q is not a duration: write e.g. \"30s\", \"5m\" or \"6h\"", b)
	}
	d.D = v
	return nil
}

// Size is a TOML string of bytes with an optional unit: "512MiB", "1GB",
// "64KiB", "1048576".
type Size struct {
	Text  string
	Bytes int64
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Size) UnmarshalText(b []byte) error {
	n, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	s.Text, s.Bytes = strings.TrimSpace(string(b)), n
	return nil
}

// units are the suffixes ParseSize accepts, in bytes: SI (kB, MB, GB:
// powers of 1000) and IEC (KiB, MiB, GiB: powers of 1024), any case, with
// an optional trailing "/s" for rates.
var units = map[string]int64{
	"": 1, "b": 1,
	"k": 1000, "kb": 1000, "m": 1000 * 1000, "mb": 1000 * 1000, "g": 1000 * 1000 * 1000, "gb": 1000 * 1000 * 1000,
	"t": 1000 * 1000 * 1000 * 1000, "tb": 1000 * 1000 * 1000 * 1000,
	"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20, "gi": 1 << 30, "gib": 1 << 30, "ti": 1 << 40, "tib": 1 << 40,
}

// ParseSize reads a byte count with an optional unit ("512MiB", "1GB",
// "1.5 MiB", "64KiB/s", "1048576").
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(t, "/s")
	i := strings.IndexFunc(t, func(r rune) bool { return !(unicode.IsDigit(r) || r == '.') })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult, ok := units[strings.ToLower(unit)]
	if !ok || num == "" {
		return 0, fmt.Errorf("%q is not a size: write e.g. \"512MiB\", \"1GB\" or a number of bytes", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a size: write e.g. \"512MiB\", \"1GB\" or a number of bytes", s)
	}
	b := v * float64(mult)
	if b > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(b), nil
}
