package plaintext

import "testing"

func TestOf(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "  Says\n hello. ", "Says hello."},
		{"tags", "To paste text without <b>formatting</b> and <b>file paths</b>.", "To paste text without formatting and file paths."},
		{"entities", "Tom &amp; Jerry &lt;3 &#233;", "Tom & Jerry <3 é"},
		{"breaks", "one<br>two<br/>three</p><p>four", "one two three four"},
		{"lone less-than", "a < b and c<d", "a < b and c<d"},
		{"link", `see <a href="https://x">the docs</a>`, "see the docs"},
		{"comment", "a<!-- hidden -->b", "ab"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Of(tc.in); got != tc.want {
				t.Errorf("Of(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestOfA2Descriptions(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: "To paste text without <b>formatting</b> and <b>file paths</b>.", want: "To paste text without formatting and file paths."},
		{in: "one<br>two<br/>three<p>four</p>", want: "one two three four"},
		{in: "un<b>bold</b>ed", want: "unbolded"},
		{in: `see <a href="https://x/?a=1&amp;b=2">the docs</a> &amp; more &lt;b&gt; &#39;q&#39;`, want: "see the docs & more <b> 'q'"},
		{in: "a < b and c > d", want: "a < b and c > d"},
		{in: "unclosed <b", want: "unclosed <b"},
		{in: "  lots \n of\tspace  ", want: "lots of space"},
		{in: "&#27;[2J", want: "\x1b[2J"}, // decoded; the table escapes it
	}
	for _, tt := range tests {
		if got := Of(tt.in); got != tt.want {
			t.Errorf("Of(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
