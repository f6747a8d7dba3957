package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/github"
	"github.com/modup/modup/trust"
	"github.com/modup/modup/updater"
)

// (7b) The release's signature verifies with the manifest's public_key,
// as users' modup will verify it: signed by that key, for this package,
// version and zip. A manifest that names a public_key with no signature
// published fails: every user who trusts the key refuses the release.
func (c *checker) checkSignature(ctx context.Context) {
	v := c.latest.Version
	sigName := sources.ZipName(v) + sources.SignatureSuffix
	upload := fmt.Sprintf("upload %s from the release folder next to %s", sigName, sources.ZipName(v))
	if c.kind() == github.Kind {
		upload = fmt.Sprintf("attach %s from the release folder to release %s", sigName, cmpOr(c.rel.Tag, v))
	}
	var sig []byte
	var fetchErr error
	if ss, ok := c.src.(sources.SignatureSource); ok {
		sig, fetchErr = ss.Signature(ctx, c.rel)
		if fetchErr == nil {
			c.sig = sig
		}
	} else {
		fetchErr = fmt.Errorf("the %s source publishes no signatures: %w", c.kind(), sources.ErrNotFound)
	}
	keyText := strings.TrimSpace(c.latest.PublicKey)
	switch {
	case fetchErr != nil && !errors.Is(fetchErr, sources.ErrNotFound):
		c.set(StepSignature, Fail, "fetch the signature: "+fetchErr.Error(), "check that it is readable where the zip is")
		return
	case fetchErr != nil && keyText == "":
		c.set(StepSignature, Skip, "unsigned: the manifest names no public_key and no "+sigName+" is published", "")
		return
	case fetchErr != nil:
		c.set(StepSignature, Fail, fmt.Sprintf("the manifest names public_key %s but no signature is published (%v): users who trust the key refuse the release", trust.DescribeKey(keyText), fetchErr),
			upload+" (`modup pack --sign KEY` writes it)")
		return
	}
	parsed, err := trust.ParseSignature(sig)
	if err != nil {
		c.set(StepSignature, Fail, sigName+": "+err.Error(), "sign again with `modup pack --sign KEY` and "+upload)
		return
	}
	if keyText == "" {
		c.set(StepSignature, Warn, fmt.Sprintf("%s by key ID %s is published, but the manifest names no public_key: users never learn which key to trust", sigName, parsed.KeyID()),
			"publish the manifest `modup pack --sign` writes (it carries public_key)")
		return
	}
	key, err := trust.ParsePublicKey(keyText)
	if err != nil {
		c.set(StepSignature, Fail, "the manifest's public_key: "+err.Error(), "set public_key to the RW... line of your modup.pub")
		return
	}
	rs, err := trust.VerifyReleaseComment([]trust.PublicKey{key}, sig)
	if err == nil {
		_, err = rs.VerifyFile([]trust.PublicKey{key}, c.zipPath)
	}
	if err != nil {
		hint := "sign again with the key whose public half the manifest names (`modup pack DIR --sign KEY`) and " + upload
		c.set(StepSignature, Fail, sigName+": "+err.Error(), hint)
		return
	}
	cl := rs.Claim
	name := cmpOr(c.latest.Name, c.q.Package)
	var bad []string
	if cl.Name != name {
		bad = append(bad, fmt.Sprintf("names package %q, not %q", cl.Name, name))
	}
	if cmp, err := updater.CompareVersions(cl.Version, v); err != nil || cmp != 0 {
		bad = append(bad, fmt.Sprintf("names version %s, not %s", cl.Version, v))
	}
	if cl.SHA256 != c.zipSHA {
		bad = append(bad, fmt.Sprintf("names sha256 %s, but the zip's is %s", short(cl.SHA256), short(c.zipSHA)))
	}
	if len(bad) > 0 {
		c.set(StepSignature, Fail, sigName+" "+strings.Join(bad, "; ")+": users refuse the release",
			"sign the zip you publish with `modup pack DIR --sign KEY` and "+upload)
		return
	}
	detail := fmt.Sprintf("signed by key ID %s (the manifest's public_key) at %s, for %s %s", key.ID(), cl.Time.Format(time.RFC3339), cl.Name, cl.Version)
	if kr := c.latest.KeyRotation; kr != nil {
		if !sameKey(kr.New, key) {
			c.set(StepSignature, Fail, detail+fmt.Sprintf("; but key_rotation hands trust to %s, not to the public_key", trust.DescribeKey(kr.New)),
				"pack again with --sign NEW.key --rotate-from OLD.key")
			return
		}
		if s, err := trust.ParseSignature([]byte(kr.Signature)); err == nil {
			detail += fmt.Sprintf("; key_rotation from key ID %s", s.KeyID())
		}
	}
	c.set(StepSignature, Pass, detail, "")
}
