package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/modup/modup/trust"
)

// Environment variables of signing, for CI.
const (
	envSigningKey         = "MODUP_SIGNING_KEY"          // path of the secret key pack signs with
	envSigningPassword    = "MODUP_SIGNING_PASSWORD"     // its password
	envOldSigningPassword = "MODUP_OLD_SIGNING_PASSWORD" // the password of --rotate-from's key
)

func (a *app) keyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "key",
		Short: "Signing keys for package authors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	c.AddCommand(a.keyGenerateCmd())
	return c
}

func (a *app) keyGenerateCmd() *cobra.Command {
	var (
		dir         string
		unencrypted bool
		force       bool
	)
	c := &cobra.Command{
		Use:   "generate [-o DIR] [--unencrypted] [--force]",
		Short: "Make a signing key pair: modup.key (secret) and modup.pub",
		Long: `key generate makes a minisign key pair in DIR (default: the current folder):

  modup.key   the secret key, mode 0600, encrypted with a password (scrypt,
              as minisign does: it takes a few seconds and 1 GiB of memory);
              --unencrypted writes it without one, for CI, where the key is
              a secret of its own
  modup.pub   the public key, which modup pack --sign puts into the release
              manifest and users' modup pins on the first install

The password is asked on the terminal (twice, not echoed), or read from
MODUP_SIGNING_PASSWORD. Existing key files are never overwritten unless
--force: users who pinned a key refuse releases signed by any other.

Keep modup.key out of the package folder and back it up. The files are
minisign's: the minisign tool signs and verifies with them too.`,
		Example: `  modup key generate -o ~/.config/modup
  MODUP_SIGNING_PASSWORD=... modup key generate -o ./keys
  modup key generate --unencrypted -o ./ci-key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			password := ""
			if !unencrypted {
				pw, err := a.newPassword()
				if err != nil {
					return &exitError{code: exitFailure, err: err}
				}
				password = pw
				printf(a.stderr, "encrypting the secret key (scrypt, a few seconds)...\n")
			}
			files, err := trust.WriteKeyPair(dir, password, force)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			how := "password-protected"
			if !files.Encrypted {
				how = "NOT password-protected"
			}
			w := a.stdout
			printf(w, "wrote %s (secret key, %s): keep it out of the package, back it up\n", files.Secret, how)
			printf(w, "wrote %s\n", files.Public)
			printf(w, "key ID:     %s\n", files.Key.ID())
			printf(w, "public key: %s\n", files.Key.String())
			printf(w, "next: modup pack DIR --sign %s\n", files.Secret)
			return nil
		},
	}
	c.Flags().StringVarP(&dir, "output", "o", ".", "the folder to write modup.key and modup.pub into")
	c.Flags().BoolVar(&unencrypted, "unencrypted", false, "write the secret key without a password (for CI)")
	c.Flags().BoolVar(&force, "force", false, "overwrite existing key files")
	return c
}

// readPassword asks for a password on the terminal, without echo. (A
// terminal that tests stand in for, env.isTerminal, is read a line
// at a time.)
func (a *app) readPassword(prompt string) (string, error) {
	printf(a.stderr, "%s", prompt)
	defer printf(a.stderr, "\n")
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		return string(b), nil
	}
	if a.lines == nil {
		a.lines = bufio.NewReader(a.stdin)
	}
	line, err := a.lines.ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read the password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// newPassword is the password of a key about to be made: from
// MODUP_SIGNING_PASSWORD, else asked twice on the terminal.
func (a *app) newPassword() (string, error) {
	if pw := a.getenv(envSigningPassword); pw != "" {
		return pw, nil
	}
	if !a.interactive() {
		return "", fmt.Errorf("a password for the new key is needed, and stdin is not a terminal: set %s, or pass --unencrypted (CI keeps the key as a secret of its own)", envSigningPassword)
	}
	pw, err := a.readPassword("password for the new key: ")
	if err != nil {
		return "", err
	}
	if pw == "" {
		return "", errors.New("an empty password: pass --unencrypted for a key without one")
	}
	again, err := a.readPassword("the same password again: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", errors.New("the passwords differ: nothing was written")
	}
	return pw, nil
}

// keyPassword is how a secret key's password is found, asked only when
// the key is encrypted: the environment variable env, else the terminal.
func (a *app) keyPassword(path, env string) func() (string, error) {
	return func() (string, error) {
		if pw := a.getenv(env); pw != "" {
			return pw, nil
		}
		if !a.interactive() {
			return "", fmt.Errorf("it is password-protected and stdin is not a terminal: set %s", env)
		}
		return a.readPassword(fmt.Sprintf("password for %s: ", filepath.Base(path)))
	}
}

// loadSigningKey reads the secret key at path (or MODUP_SIGNING_KEY's when
// path is ""); "" and no variable is no key.
func (a *app) loadSigningKey(path, env string) (*trust.SecretKey, error) {
	if path == "" {
		return nil, nil
	}
	k, err := trust.ReadSecretKeyFile(path, a.keyPassword(path, env))
	if err != nil {
		return nil, err
	}
	return &k, nil
}
