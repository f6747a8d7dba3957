#!/usr/bin/env bash
# Rebuilds testdata/example/index: the repository of the README's
# "Repositories and search" example, an index of testdata/example/releases
# exported with its mirror, so that it installs from wherever the checkout
# is (the update_urls it records name /tmp/modup-example/releases/...).
#
#   scripts/example-index.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
work=/tmp/modup-example
rm -rf "$work"
mkdir -p "$work"
cp -r testdata/example/releases "$work/"
printf './releases/%s\n' greet hello toolbox >"$work/sources.txt"
go build -o "$work/modup" ./cmd/modup
"$work/modup" index build --sources "$work/sources.txt" --db "$work/index.db" --mirror "$work/mirror"
rm -rf "$repo/testdata/example/index"
"$work/modup" index export --db "$work/index.db" "$repo/testdata/example/index" --mirror "$work/mirror"
rm -rf "$work"
