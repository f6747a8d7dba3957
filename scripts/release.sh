#!/usr/bin/env bash
# Builds modup's release assets into dist/ (see scripts/release/main.go):
#
#   MODUP_RELEASE_KEY_FILE=~/.minisign/modup.key scripts/release.sh -version 1.2.0
#   scripts/release.sh -dry          # what CI runs: throw-away key, temporary folder
#
# Then attach every file of dist/ to the GitHub release v1.2.0.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./scripts/release "$@"
