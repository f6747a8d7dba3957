package repo

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/modup/modup/index/doc"
)

// Ranks of a search hit, best first.
const (
	RankName   = iota // the package's name is a word of the query
	RankPrefix        // the name starts with a word
	RankModule        // a module's name is, or starts with, a word
	RankText          // a word is found in the names, descriptions or tags
)

// Hit is one package a search found.
type Hit struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Repo        string `json:"repo"`
	DisplayName string `json:"display_name,omitempty"`
	Description string `json:"description,omitempty"`
	// Module is the module that matched, "" when the package itself did.
	Module    string `json:"module,omitempty"`
	UpdateURL string `json:"update_url"`
	// Rank is how it matched (RankName ... RankText).
	Rank int `json:"-"`
	// score adds up the ranks of the query's words, to order hits of one
	// rank.
	score int
}

// Searched is a search over some repositories.
type Searched struct {
	Hits []Hit
	// Problems are the repositories that could not be asked (their cached
	// copies, if any, were searched).
	Problems []error
}

// Search finds the packages of repos matching query: every word of it
// (case-insensitive) must be found in the package's name, display name or
// description, or in one of its modules' names, descriptions or tags.
// Hits are ranked: the package's name is a word, the name starts with a
// word, a module's name does, then any text; then by name and repository.
func (c *Client) Search(ctx context.Context, repos []Repo, query string) Searched {
	words := strings.Fields(strings.ToLower(query))
	var out Searched
	if len(words) == 0 {
		return out
	}
	for _, r := range repos {
		list := c.Packages(ctx, r)
		if list.Err != nil {
			out.Problems = append(out.Problems, list.Err)
		}
		if list.Doc == nil {
			continue
		}
		mods := c.Modules(ctx, r)
		if mods.Err != nil && list.Err == nil {
			out.Problems = append(out.Problems, mods.Err)
		}
		byPkg := map[string][]doc.ModuleSummary{}
		if mods.Doc != nil {
			for _, m := range mods.Doc.Modules {
				byPkg[m.Package] = append(byPkg[m.Package], m)
			}
		}
		for _, p := range list.Doc.Packages {
			if h, ok := match(p, byPkg[p.Name], words); ok {
				h.Repo = r.Name
				out.Hits = append(out.Hits, h)
			}
		}
	}
	slices.SortStableFunc(out.Hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(a.Rank, b.Rank), cmp.Compare(a.score, b.score),
			cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Repo, b.Repo))
	})
	return out
}

// match ranks package p (with its modules' entries mods) against words;
// ok is false when a word is not found.
func match(p doc.PackageSummary, mods []doc.ModuleSummary, words []string) (Hit, bool) {
	h := Hit{Name: p.Name, Version: p.Version, DisplayName: p.DisplayName, Description: p.Description,
		UpdateURL: p.UpdateURL, Rank: RankText}
	name := strings.ToLower(p.Name)
	text := strings.ToLower(p.DisplayName + "\n" + p.Description)
	for _, w := range words {
		rank, module := RankText, ""
		switch {
		case name == w:
			rank = RankName
		case strings.HasPrefix(name, w):
			rank = RankPrefix
		default:
			var found bool
			if rank, module, found = matchModules(p, mods, w); !found {
				if !strings.Contains(name, w) && !strings.Contains(text, w) {
					return Hit{}, false
				}
				rank = RankText
			}
		}
		h.Rank = min(h.Rank, rank)
		h.score += rank
		if h.Module == "" {
			h.Module = module
		}
	}
	return h, true
}

// matchModules finds word w in p's modules: their names (RankModule), or
// their descriptions and tags (RankText); module is the one that matched.
func matchModules(p doc.PackageSummary, mods []doc.ModuleSummary, w string) (rank int, module string, found bool) {
	for _, m := range p.Modules {
		if lm := strings.ToLower(m); strings.HasPrefix(lm, w) {
			return RankModule, m, true
		}
	}
	for _, m := range p.Modules {
		if strings.Contains(strings.ToLower(m), w) {
			return RankText, m, true
		}
	}
	for _, m := range mods {
		if strings.Contains(strings.ToLower(m.Description), w) {
			return RankText, m.Name, true
		}
		for _, t := range m.Tags {
			if strings.Contains(strings.ToLower(t), w) {
				return RankText, m.Name, true
			}
		}
	}
	return RankText, "", false
}
