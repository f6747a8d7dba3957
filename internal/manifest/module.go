package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Module is the "nfo" element of an a2module.json: what a module says about
// itself. The other elements are UI entries modup never rewrites.
type Module struct {
	Name        string   `json:"-"` // the module's folder name
	DisplayName string   `json:"display_name,omitempty"`
	Version     string   `json:"version,omitempty"`
	Description string   `json:"description,omitempty"`
	Author      string   `json:"author,omitempty"`
	Date        string   `json:"date,omitempty"`
	URL         string   `json:"url,omitempty"`
	Tags        []string `json:"tags,omitempty"`
}

// ParseModule decodes an a2module.json: a JSON array whose first element
// with "typ": "nfo" describes the module. file names the source in errors.
func ParseModule(data []byte, file string) (*Module, error) {
	body := bytes.TrimPrefix(data, bom)
	var elems []json.RawMessage
	if err := json.Unmarshal(body, &elems); err != nil {
		return nil, positioned(body, file, err, 0)
	}
	for _, e := range elems {
		var head struct {
			Typ string `json:"typ"`
		}
		if json.Unmarshal(e, &head) != nil || head.Typ != "nfo" {
			continue
		}
		var nfo struct {
			DisplayName string          `json:"display_name"`
			Version     json.RawMessage `json:"version"`
			Description string          `json:"description"`
			Author      string          `json:"author"`
			Date        string          `json:"date"`
			URL         string          `json:"url"`
			Tags        []string        `json:"tags"`
		}
		if err := json.Unmarshal(e, &nfo); err != nil {
			return nil, &SyntaxError{File: file, Msg: fmt.Sprintf("\"nfo\" element: %v", err)}
		}
		m := &Module{DisplayName: nfo.DisplayName, Description: nfo.Description, Author: nfo.Author,
			Date: nfo.Date, URL: nfo.URL, Tags: nfo.Tags}
		// a2 writes versions as strings, but hand-edited modules carry numbers.
		if len(nfo.Version) > 0 && !bytes.Equal(nfo.Version, []byte("null")) {
			var s string
			if json.Unmarshal(nfo.Version, &s) != nil {
				s = string(nfo.Version)
			}
			m.Version = s
		}
		return m, nil
	}
	return nil, &SyntaxError{File: file, Msg: `no element with "typ": "nfo" (the module description)`}
}
