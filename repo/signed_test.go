package repo

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/trust"
)

// signer signs a fixture's published documents as `index serve --sign`
// does: a .minisig beside each, whose trusted comment names the document,
// when it was signed and when it expires.
type signer struct {
	f   *fixture
	key trust.SecretKey
	pub trust.PublicKey
}

func newSigner(t *testing.T, f *fixture) *signer {
	t.Helper()
	pub, key, err := trust.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &signer{f: f, key: key, pub: pub}
}

// published is what the fake host serves at /idx/FILE.
func (f *fixture) published(file string) []byte {
	f.t.Helper()
	resp, err := f.client.HTTP.HTTPClient().Get(f.web.URL + "/idx/" + file)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return data
}

// signAs signs the document served at file, claiming it is the document
// at path (its own, for a good signature), at the fixture's now, valid
// for validFor; it returns the signature, also published beside file.
func (s *signer) signAs(file, path string, validFor time.Duration) []byte {
	s.f.t.Helper()
	c := trust.Comment{
		{Key: doc.SignatureFieldDoc, Value: path},
		{Key: trust.FieldTime, Value: s.f.now.Format(trust.TimeFormat)},
		{Key: trust.FieldExpires, Value: s.f.now.Add(validFor).Format(trust.TimeFormat)},
	}
	sig, err := trust.SignDocument(s.key, s.f.published(file), c)
	if err != nil {
		s.f.t.Fatal(err)
	}
	s.f.web.Put("/idx/"+file+doc.SignatureSuffix, sig)
	return sig
}

// signAll signs the package list and the info of each named package.
func (s *signer) signAll(validFor time.Duration, names ...string) {
	s.signAs(packagesDoc, doc.PackageListPath, validFor)
	for _, n := range names {
		s.signAs(infoDoc(n), doc.PackageInfoPath(n), validFor)
	}
}

// A repository pinned to a key uses what that key signed, and refuses
// each way a document can fail to be what the index's operator signed,
// naming the repository and the document; nothing refused is used or
// cached.
func TestSignedRepository(t *testing.T) {
	alpha := func(f *fixture) {
		f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0")}}},
			pkg{name: "beta", versions: []ver{{version: "2.0.0", zip: f.zip("beta", "2.0.0")}}})
	}
	tests := []struct {
		name string
		// setup publishes and signs; s is the pinned key's signer.
		setup func(f *fixture, s *signer)
		want  error // nil: the list is used
		say   string
	}{
		{name: "signed", setup: func(f *fixture, s *signer) { alpha(f); s.signAll(time.Hour, "alpha") }},
		{name: "unsigned", setup: func(f *fixture, s *signer) { alpha(f) },
			want: trust.ErrNoSignature, say: "list/packages.json.minisig"},
		{name: "tampered after signing", setup: func(f *fixture, s *signer) {
			alpha(f)
			s.signAll(time.Hour)
			f.web.Put("/idx/"+packagesDoc, []byte(strings.Replace(string(f.published(packagesDoc)), "1.0.0", "9.0.0", 1)))
		}, want: trust.ErrBadSignature, say: "signature does not verify"},
		{name: "another key", setup: func(f *fixture, _ *signer) {
			alpha(f)
			newSigner(f.t, f).signAll(time.Hour)
		}, want: trust.ErrUnknownKey, say: "if the index's operator changed keys"},
		{name: "another document's signature", setup: func(f *fixture, s *signer) {
			alpha(f)
			// A valid signature of beta's info, made to stand for the list.
			s.signAs(packagesDoc, doc.PackageInfoPath("beta"), time.Hour)
		}, want: trust.ErrMismatch, say: `its signature is of "/info/packages/beta", not "/list/packages"`},
		{name: "expired when served", setup: func(f *fixture, s *signer) {
			alpha(f)
			f.now = f.now.Add(-2 * time.Hour)
			s.signAll(time.Hour)
			f.now = f.now.Add(2 * time.Hour)
		}, want: trust.ErrExpired, say: "frozen copy"},
		{name: "signed without expiry", setup: func(f *fixture, s *signer) {
			alpha(f)
			sig, err := trust.SignDocument(s.key, f.published(packagesDoc), trust.Comment{
				{Key: doc.SignatureFieldDoc, Value: doc.PackageListPath},
				{Key: trust.FieldTime, Value: f.now.Format(trust.TimeFormat)},
			})
			if err != nil {
				t.Fatal(err)
			}
			f.web.Put("/idx/"+packagesDoc+doc.SignatureSuffix, sig)
		}, want: trust.ErrMismatch, say: "has no expires"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			s := newSigner(t, f)
			f.repo.Key = s.pub.String()
			tc.setup(f, s)
			list := f.client.Packages(t.Context(), f.repo)
			if tc.want == nil {
				if list.Err != nil || list.Doc == nil || len(list.Doc.Packages) != 2 {
					t.Fatalf("list %+v, %v", list.Doc, list.Err)
				}
				if info := f.client.Info(t.Context(), f.repo, "alpha"); info.Err != nil || info.Doc == nil {
					t.Errorf("alpha's info: %v", info.Err)
				}
				// beta's info was not signed: refused, though the list is good.
				if info := f.client.Info(t.Context(), f.repo, "beta"); info.Doc != nil || !errors.Is(info.Err, trust.ErrNoSignature) {
					t.Errorf("beta's unsigned info: %+v, %v", info.Doc, info.Err)
				}
				return
			}
			if list.Doc != nil || !errors.Is(list.Err, tc.want) {
				t.Fatalf("list %+v, %v; want refused with %v", list.Doc, list.Err, tc.want)
			}
			for _, want := range []string{"repository main", tc.say} {
				if !strings.Contains(list.Err.Error(), want) {
					t.Errorf("error %q does not say %q", list.Err, want)
				}
			}
			// Nothing of it was kept: the next command does not use it.
			again := &Client{HTTP: f.client.HTTP, Dir: f.client.Dir, MaxAge: time.Hour, Now: f.client.Now}
			f.web.Close()
			if l := again.Packages(t.Context(), f.repo); l.Doc != nil {
				t.Errorf("a refused list was cached: %+v", l.Doc)
			}
		})
	}
}

// An index that stops being signed again (a mirror or a proxy freezing
// clients on old versions) is used until its signature expires, then not
// at all, even from the cache; an index signed again is used again, also
// when only its signature changed (the document answers 304).
func TestSignedRepositoryExpiry(t *testing.T) {
	f := newFixture(t)
	s := newSigner(t, f)
	f.repo.Key = s.pub.String()
	f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0")}}})
	s.signAll(3*time.Hour, "alpha")
	if l := f.client.Packages(t.Context(), f.repo); l.Err != nil || l.Doc == nil {
		t.Fatalf("fresh: %v", l.Err)
	}

	// Two hours on: the copy is older than MaxAge, the host serves the
	// same signature (304 and the same .minisig), still valid.
	f.now = f.now.Add(2 * time.Hour)
	if l := f.client.Packages(t.Context(), f.repo); l.Err != nil || l.Doc == nil {
		t.Fatalf("within validity: %v", l.Err)
	}

	// Past expiry, frozen: refused, and a new command's cache is refused
	// too.
	f.now = f.now.Add(2 * time.Hour)
	l := f.client.Packages(t.Context(), f.repo)
	if l.Doc != nil || !errors.Is(l.Err, trust.ErrExpired) {
		t.Fatalf("frozen: %+v, %v", l.Doc, l.Err)
	}
	f.now = f.now.Add(2 * time.Minute) // past the once-a-minute limit
	again := &Client{HTTP: f.client.HTTP, Dir: f.client.Dir, MaxAge: time.Hour, Now: f.client.Now}
	if l := again.Packages(t.Context(), f.repo); l.Doc != nil || !errors.Is(l.Err, trust.ErrExpired) {
		t.Fatalf("frozen, next command: %+v, %v", l.Doc, l.Err)
	}

	// Signed again, the document unchanged: a 304 for it, the new
	// signature verified against the bytes kept.
	s.signAll(3*time.Hour, "alpha")
	f.web.Reset()
	f.now = f.now.Add(2 * time.Minute)
	l = again.Packages(t.Context(), f.repo)
	if l.Err != nil || l.Doc == nil {
		t.Fatalf("signed again: %v", l.Err)
	}
	if got := f.requests("/idx/"); got["GET /idx/list/packages.json 304"] != 1 || got["GET /idx/list/packages.json.minisig 200"] != 1 || total(got) != 2 {
		t.Errorf("signed again: requests %v, want a 304 for the list and its new signature", got)
	}
}

// A signed document older than the copy held (a mirror serving what the
// index said last week, still within its validity) is refused; the copy
// held stays in use.
func TestSignedRepositoryReplay(t *testing.T) {
	f := newFixture(t)
	s := newSigner(t, f)
	f.repo.Key = s.pub.String()
	f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0")}}})
	s.signAll(7 * 24 * time.Hour)
	oldList, oldSig := f.published(packagesDoc), f.published(packagesDoc+doc.SignatureSuffix)

	f.now = f.now.Add(time.Hour)
	f.publish(pkg{name: "alpha", versions: []ver{{version: "1.1.0", zip: f.zip("alpha", "1.1.0")}}})
	s.signAll(7 * 24 * time.Hour)
	if l := f.client.Packages(t.Context(), f.repo); l.Err != nil || l.Doc.Packages[0].Version != "1.1.0" {
		t.Fatalf("new: %+v, %v", l.Doc, l.Err)
	}

	f.web.Put("/idx/"+packagesDoc, oldList)
	f.web.Put("/idx/"+packagesDoc+doc.SignatureSuffix, oldSig)
	f.now = f.now.Add(2 * time.Hour)
	l := f.client.Packages(t.Context(), f.repo)
	if !errors.Is(l.Err, trust.ErrReplayed) || !strings.Contains(l.Err.Error(), "an older index served again") {
		t.Fatalf("replayed: %v", l.Err)
	}
	if l.Doc == nil || l.Doc.Packages[0].Version != "1.1.0" {
		t.Errorf("replayed: the copy held is not used: %+v", l.Doc)
	}
}

// A copy cached before the repository was pinned (or pinned to another
// key) is not used: the repository is asked again and what it says is
// verified.
func TestSignedRepositoryCacheOfAnotherKey(t *testing.T) {
	f := newFixture(t)
	s := newSigner(t, f)
	f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0")}}})
	if l := f.client.Packages(t.Context(), f.repo); l.Err != nil {
		t.Fatal(l.Err)
	}
	f.repo.Key = s.pub.String()
	f.web.Reset()
	again := &Client{HTTP: f.client.HTTP, Dir: f.client.Dir, MaxAge: time.Hour, Now: f.client.Now}
	if l := again.Packages(t.Context(), f.repo); l.Doc != nil || !errors.Is(l.Err, trust.ErrNoSignature) {
		t.Fatalf("unsigned index, pinned now: %+v, %v", l.Doc, l.Err)
	}
	if got := f.requests("/idx/"); got["GET /idx/list/packages.json 200"] != 1 {
		t.Errorf("requests %v: the unverified copy was not replaced by asking", got)
	}
}

// A folder repository (an export on a share) is verified the same way,
// including a signature renewed beside an unchanged document.
func TestSignedFolderRepository(t *testing.T) {
	f := newFixture(t)
	s := newSigner(t, f)
	f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0")}}})
	s.signAll(time.Hour, "alpha")
	files := []string{rootDoc, packagesDoc, packagesDoc + doc.SignatureSuffix, infoDoc("alpha"), infoDoc("alpha") + doc.SignatureSuffix}
	dir := f.export(files...)
	r := Repo{Name: "share", URL: dir, Enabled: true, Key: s.pub.String()}
	if l := f.client.Packages(t.Context(), r); l.Err != nil || l.Doc == nil {
		t.Fatalf("share: %v", l.Err)
	}
	f.now = f.now.Add(2 * time.Hour)
	if l := f.client.Packages(t.Context(), r); !errors.Is(l.Err, trust.ErrExpired) {
		t.Fatalf("share, expired: %v", l.Err)
	}
	s.signAs(packagesDoc, doc.PackageListPath, time.Hour)
	sig := f.published(packagesDoc + doc.SignatureSuffix)
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(packagesDoc+doc.SignatureSuffix)), sig, 0o644); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(2 * time.Minute)
	if l := f.client.Packages(t.Context(), r); l.Err != nil || l.Doc == nil {
		t.Fatalf("share, signed again: %v", l.Err)
	}
	// A tampered document on the share is refused.
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(packagesDoc)), []byte(`{"generated":"2026-01-01T00:00:00Z","packages":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(2 * time.Minute)
	f.client.MaxAge = -1 // ask now, though the copy is young
	l := f.client.Packages(t.Context(), r)
	if !errors.Is(l.Err, trust.ErrBadSignature) || (l.Doc != nil && len(l.Doc.Packages) != 1) {
		t.Fatalf("share, tampered: %+v, %v; want refused, the verified copy kept", l.Doc, l.Err)
	}
}

// The router sends the packages of a frozen signed repository to their
// authors' sources, saying why.
func TestRouterSignedRepositoryExpired(t *testing.T) {
	f := newFixture(t)
	s := newSigner(t, f)
	f.repo.Key = s.pub.String()
	f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0")}}})
	s.signAll(time.Hour, "alpha")
	p := installed(t, t.TempDir(), "alpha", "1.0.0", f.query("alpha").UpdateURL, "main")
	var warnings []string
	r := &Router{Client: f.client, Repos: &List{Repos: []Repo{f.repo}}, Warn: func(m string) { warnings = append(warnings, m) }}
	if _, ok := r.Route(t.Context(), p); !ok || len(warnings) != 0 {
		t.Fatalf("signed and fresh: routed %v, warnings %q", ok, warnings)
	}
	f.now = f.now.Add(90 * time.Minute)
	if _, ok := r.Route(t.Context(), p); ok {
		t.Fatal("expired: routed to the repository")
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "expired at") || !strings.Contains(warnings[0], "checked at their authors' sources") {
		t.Errorf("warnings %q", warnings)
	}
}
