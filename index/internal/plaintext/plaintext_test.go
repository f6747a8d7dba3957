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
