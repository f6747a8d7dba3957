package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/trust"
	"github.com/modup/modup/updater"
)

func (a *app) trustCmd() *cobra.Command {
	var (
		keys   []string
		reset  bool
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "trust NAME [--key RW... | --reset]",
		Short: "Show, pin or forget the key a package's releases must be signed with",
		Long: `trust shows which minisign key a package's releases must be signed with.
modup pins it on the first install of a release whose manifest names a
public_key (trust on first use), and moves it to a new key only on a key
rotation signed by the pinned key. Every later install or update must then be
signed by the pinned key, for that package, version and zip.

--key RW... pins keys by hand (repeatable; a .pub file's path works too),
replacing the pin: check the key with the author first, through another
channel than the release (their website, a signed message, in person).
--reset forgets the pin: the next release whose manifest names a public_key
is trusted on first use again, and until then updates are not verified.`,
		Example: `  modup trust a2.modules
  modup trust a2.modules --key RWS6aiKcStTpoz71BQdi8+MJ7pOJI7KchME2v5pH5K5tjpLJ5sKvHf/7
  modup trust a2.modules --key ./author.pub
  modup trust a2.modules --reset`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeNames(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if reset && len(keys) > 0 {
				return &exitError{code: exitUsage, err: errors.New("--key and --reset exclude each other")}
			}
			p, err := a.findOne(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if p.Err != nil {
				return &exitError{code: exitFailure, err: p.Err}
			}
			l := p.Layout()
			if !reset && len(keys) == 0 {
				if _, err := l.ReadRecord(p.Name); errors.Is(err, pkgdir.ErrBadRecord) {
					fmt.Fprintf(a.stderr, "modup: warning: %v; taken as none (`modup trust %s --key RW...` writes a new one)\n", err, p.Name)
				}
				pin, err := updater.ReadPin(l, p.Name)
				if err != nil {
					return &exitError{code: exitFailure, err: err}
				}
				return a.printTrust(p, pin, asJSON)
			}
			var pin *pkgdir.Pin
			if !reset {
				if pin, err = handPin(p, keys); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			}
			lk, err := l.Lock(cmd.Context(), p.Name, a.lockTimeout)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			defer lk.Unlock()
			old, err := updater.ReadPin(l, p.Name)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			if pin != nil && old != nil {
				pin.SignedAt = old.SignedAt // a new key does not make old releases new
			}
			if err := l.SetPin(p.Name, p.Version(), pin); err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			switch {
			case reset && old == nil:
				printf(a.stdout, "%s: no key was pinned\n", p.Name)
			case reset:
				printf(a.stdout, "%s: forgot key ID %s: until a release names a public_key (trusted on first use), updates are not verified\n", p.Name, pinIDs(old))
			default:
				printf(a.stdout, "%s: pinned key ID %s: every install and update must be signed by it\n", p.Name, pinIDs(pin))
			}
			return nil
		},
	}
	c.Flags().StringArrayVar(&keys, "key", nil, "pin this public key (RW... or a .pub file; repeatable)")
	c.Flags().BoolVar(&reset, "reset", false, "forget the pinned key")
	c.Flags().BoolVar(&asJSON, "json", false, "print the pin as JSON")
	return c
}

// handPin is the pin of keys given with --key: key strings or .pub files.
func handPin(p pkgdir.Package, keys []string) (*pkgdir.Pin, error) {
	pin := &pkgdir.Pin{Name: p.Name, From: pkgdir.PinByHand, Since: time.Now().UTC()}
	if p.Manifest != nil && p.Manifest.Name != "" {
		pin.Name = p.Manifest.Name
	}
	for _, s := range keys {
		k, err := readKeyArg(s)
		if err != nil {
			return nil, fmt.Errorf("--key %w", err)
		}
		pin.Keys = append(pin.Keys, k.String())
	}
	return pin, nil
}

// readKeyArg reads a public key given on the command line: the key itself
// (RW...), or a .pub file holding it.
func readKeyArg(s string) (trust.PublicKey, error) {
	k, err := trust.ParsePublicKey(s)
	if err != nil {
		if _, statErr := os.Stat(s); statErr == nil {
			k, err = trust.ReadPublicKeyFile(s)
		}
	}
	return k, err
}

func pinIDs(pin *pkgdir.Pin) string {
	keys, err := trust.ParsePublicKeys(pin.Keys)
	if err != nil {
		return strings.Join(pin.Keys, ", ")
	}
	return trust.KeyIDs(keys)
}

// trustView is `trust NAME --json`'s shape.
type trustView struct {
	Name     string    `json:"name"`
	Pinned   bool      `json:"pinned"`
	Keys     []keyView `json:"keys,omitempty"`
	From     string    `json:"from,omitempty"`
	Since    time.Time `json:"since,omitzero"`
	SignedAt time.Time `json:"signed_at,omitzero"`
}

type keyView struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

func (a *app) printTrust(p pkgdir.Package, pin *pkgdir.Pin, asJSON bool) error {
	v := trustView{Name: p.Name, Pinned: pin != nil}
	if pin != nil {
		v.From, v.Since, v.SignedAt = pin.From, pin.Since, pin.SignedAt
		for _, s := range pin.Keys {
			kv := keyView{Key: s, ID: "?"}
			if k, err := trust.ParsePublicKey(s); err == nil {
				kv.ID = k.ID()
			}
			v.Keys = append(v.Keys, kv)
		}
	}
	if asJSON {
		return writeJSON(a.stdout, v)
	}
	w := a.stdout
	if pin == nil {
		printf(w, "%s: no key pinned; its releases are not verified (the next release whose manifest names a public_key is trusted on first use)\n", p.Name)
		return nil
	}
	how := map[string]string{
		pkgdir.PinFirstUse: "on first use",
		pkgdir.PinByHand:   "by hand (modup trust --key)",
		pkgdir.PinRotation: "by a key rotation the previous key signed",
	}[pin.From]
	if how == "" {
		how = pin.From
	}
	printf(w, "%s: releases must be signed by\n", p.Name)
	for _, k := range v.Keys {
		printf(w, "  key ID %s  %s\n", k.ID, k.Key)
	}
	printf(w, "pinned %s, %s\n", how, pin.Since.Local().Format(time.DateTime))
	if !pin.SignedAt.IsZero() {
		printf(w, "newest installed release signed %s: older signed releases are refused as updates\n", pin.SignedAt.Local().Format(time.DateTime))
	}
	return nil
}
