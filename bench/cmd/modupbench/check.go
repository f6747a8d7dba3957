//go:build linux

package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/modup/modup/bench/internal/server"
)

// checkRows times `modup check` of N up-to-date packages: cold (empty
// conditional-request cache: every manifest answered 200) and warm (every
// manifest answered 304, no body), counting the requests the server saw.
func (b *bench) checkRows() error {
	var perPkg []string
	var prevN int
	var prevCold, prevWarm time.Duration
	for _, n := range b.cfg.checkNs {
		root := filepath.Join(b.cfg.work, "check", fmt.Sprint(n))
		if err := b.writeRoot(root, n); err != nil {
			return err
		}
		var cold, warm, abCold, abWarm series
		var coldC, warmC []server.Counts
		for i := range b.cfg.reps {
			b.progress("check %d packages, cold %d/%d", n, i+1, b.cfg.reps)
			b.discard(filepath.Join(root, ".modup", "cache"))
			settle()
			b.srv.Reset()
			s, err := b.modup(fmt.Sprintf("check-%d-cold-%d", n, i), nil, "check", "--root", root)
			if err != nil {
				return err
			}
			cold, coldC = append(cold, s), append(coldC, b.srv.Counts())
			if b.cfg.ab != "" {
				b.discard(filepath.Join(root, ".modup", "cache"))
				settle()
				s, err := b.modupBin(b.cfg.ab, fmt.Sprintf("check-%d-cold-%d", n, i), nil, "check", "--root", root)
				if err != nil {
					return err
				}
				abCold = append(abCold, s)
			}
		}
		for i := range b.cfg.reps {
			b.progress("check %d packages, warm %d/%d", n, i+1, b.cfg.reps)
			settle()
			b.srv.Reset()
			s, err := b.modup(fmt.Sprintf("check-%d-warm-%d", n, i), nil, "check", "--root", root)
			if err != nil {
				return err
			}
			warm, warmC = append(warm, s), append(warmC, b.srv.Counts())
			if b.cfg.ab != "" {
				s, err := b.modupBin(b.cfg.ab, fmt.Sprintf("check-%d-warm-%d", n, i), nil, "check", "--root", root)
				if err != nil {
					return err
				}
				abWarm = append(abWarm, s)
			}
		}
		if b.cfg.ab != "" {
			b.notes = append(b.notes, abNote(fmt.Sprintf("check %d cold", n), cold, abCold), abNote(fmt.Sprintf("check %d warm", n), warm, abWarm))
		}
		cc, wc := coldC[len(coldC)-1], warmC[len(warmC)-1]
		oneEach := true
		for _, c := range append(coldC, warmC...) {
			oneEach = oneEach && c.Requests == int64(n)
		}
		allNotMod := true
		for _, c := range warmC {
			allNotMod = allNotMod && c.NotMod == int64(n) && c.BodyBytes == 0
		}
		goal := "1 request per package; 304s, no bodies, when warm"
		met := "requests " + yes(oneEach && allNotMod)
		if n >= 10000 {
			goal = "≤ 1 s; " + goal
			met = fmt.Sprintf("warm %s, cold %s; %s", yes(warm.wallMedian() <= time.Second), yes(cold.wallMedian() <= time.Second), met)
		}
		b.rows = append(b.rows, row{
			workload: fmt.Sprintf("`check` of %d up-to-date packages (web source); cold = first run, empty cache", n),
			baseline: "—",
			modup: fmt.Sprintf("cold %s (%d req: %d×200); warm %s (%d req: %d×304, %d body bytes)",
				secs(cold.wallMedian()), cc.Requests, cc.OK, secs(warm.wallMedian()), wc.Requests, wc.NotMod, wc.BodyBytes),
			ratio: "—",
			goal:  goal,
			met:   met,
		})
		if prevN > 0 {
			perPkg = append(perPkg, fmt.Sprintf("%d→%d: cold %.0f µs, warm %.0f µs", prevN, n,
				float64((cold.wallMedian()-prevCold).Microseconds())/float64(n-prevN),
				float64((warm.wallMedian()-prevWarm).Microseconds())/float64(n-prevN)))
		}
		prevN, prevCold, prevWarm = n, cold.wallMedian(), warm.wallMedian()
		b.notes = append(b.notes, fmt.Sprintf("check %d runs: cold [%s], CPU %s; warm [%s], CPU %s; peak RSS %s",
			n, cold.walls(), secs(cold.cpuMedian()), warm.walls(), secs(warm.cpuMedian()), mbKB(max(cold.rssMax(), warm.rssMax()))))
	}
	b.notes = append(b.notes, "check time per added package (linear growth keeps these level as N grows): "+strings.Join(perPkg, "; "))
	return nil
}

// listRow times `modup list` of many package folders.
func (b *bench) listRow() error {
	n := b.cfg.listN
	root := filepath.Join(b.cfg.work, "check", fmt.Sprint(n))
	if err := b.writeRoot(root, n); err != nil {
		return err
	}
	var s, ab series
	for i := range b.cfg.reps {
		b.progress("list %d packages %d/%d", n, i+1, b.cfg.reps)
		settle()
		x, err := b.modup(fmt.Sprintf("list-%d-%d", n, i), nil, "list", "--root", root)
		if err != nil {
			return err
		}
		s = append(s, x)
		if b.cfg.ab != "" {
			x, err := b.modupBin(b.cfg.ab, fmt.Sprintf("list-%d-%d", n, i), nil, "list", "--root", root)
			if err != nil {
				return err
			}
			ab = append(ab, x)
		}
	}
	if b.cfg.ab != "" {
		b.notes = append(b.notes, abNote("list", s, ab))
	}
	goal, met := "≤ 200 ms", yes(s.wallMedian() <= 200*time.Millisecond)
	if n < 10000 {
		goal, met = "(≤ 200 ms for 10,000)", "—"
	}
	b.rows = append(b.rows, row{
		workload: fmt.Sprintf("`list` of %d package folders", n),
		baseline: "—",
		modup:    secs(s.wallMedian()),
		ratio:    "—",
		goal:     goal,
		met:      met,
	})
	b.notes = append(b.notes, fmt.Sprintf("list runs: [%s], CPU %s; peak RSS %s", s.walls(), secs(s.cpuMedian()), mbKB(s.rssMax())))
	return nil
}
