package updater

import (
	"context"

	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources"
)

// Field is one manifest field as written (raw JSON for non-strings).
type Field struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ModuleSummary is one module of a package.
type ModuleSummary struct {
	Name        string   `json:"name"`
	Version     string   `json:"version,omitempty"`
	Description string   `json:"description,omitempty"`
	Author      string   `json:"author,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Error       string   `json:"error,omitempty"`
}

// PackageInfo is everything `modup info` shows.
type PackageInfo struct {
	Name          string          `json:"name"`
	Path          string          `json:"path"`
	ManifestError string          `json:"manifest_error,omitempty"`
	Manifest      []Field         `json:"manifest,omitempty"`
	Modules       []ModuleSummary `json:"modules,omitempty"`
	Source        string          `json:"source,omitempty"`
	ManifestURL   string          `json:"manifest_url,omitempty"`
	PayloadURL    string          `json:"payload_url,omitempty"`
	Check         Result          `json:"check"`
}

// Info describes p fully, checking its source.
func (u *Updater) Info(ctx context.Context, p pkgdir.Package) PackageInfo {
	in := PackageInfo{Name: p.Name, Path: p.Dir}
	if p.Err != nil {
		in.ManifestError = redact.Text(p.Err.Error())
	}
	if m := p.Manifest; m != nil {
		for _, k := range m.Keys() {
			raw, _ := m.Raw(k)
			v := string(raw)
			var s string
			if len(raw) > 0 && raw[0] == '"' && jsonString(raw, &s) {
				v = s
			}
			in.Manifest = append(in.Manifest, Field{Key: k, Value: redact.Text(v)})
		}
	}
	if mods, err := pkgdir.Modules(p.Dir); err == nil {
		for _, m := range mods {
			s := ModuleSummary{Name: m.Name, Version: m.Version, Description: m.Description, Author: m.Author, Tags: m.Tags}
			if m.Err != nil {
				s.Error = m.Err.Error()
			}
			in.Modules = append(in.Modules, s)
		}
	}
	in.Check = u.CheckOne(ctx, p)
	if p.Manifest != nil && p.Manifest.UpdateURL != "" {
		if src, err := u.Sources.SourceOf(ctx, p); err == nil {
			in.Source = src.Kind()
			if loc, ok := src.(sources.Locator); ok {
				version := in.Check.Available
				in.ManifestURL, in.PayloadURL, _ = loc.Locate(u.Query(p), version)
			}
			if in.Check.Release.PayloadURL != "" {
				in.PayloadURL = in.Check.Release.PayloadURL
			}
			in.ManifestURL, in.PayloadURL = redact.URL(in.ManifestURL), redact.URL(in.PayloadURL)
		}
	}
	return in
}
