#!/usr/bin/env bash
# Benchmarks of modup against curl+unzip and Python, on workloads generated
# and served on loopback. Prints a markdown table of medians and ratios.
#
#   bench/run.sh              default workloads (about 10-15 minutes)
#   bench/run.sh --quick      small workloads, for CI (about 3 minutes)
#   bench/run.sh [--quick] [modupbench run flags...]   e.g. -reps 7, -rows update,check, -o out.md
#
# On a fresh Debian or Ubuntu machine it installs what it needs (curl,
# unzip, python3, GNU time; Go from go.dev when no usable Go is found),
# builds modup and the harness, and runs them. Scratch data goes to
# $MODUP_BENCH_WORK (default bench/.work), which must be on the file system
# you want to measure (not tmpfs); it needs about 8 GB free in the default
# mode. Linux only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
work="${MODUP_BENCH_WORK:-$here/.work}"

quick=()
args=()
for a in "$@"; do
	case "$a" in
	--quick | -quick) quick=(-quick) ;;
	-h | --help)
		sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) args+=("$a") ;;
	esac
done

if [ "$(uname -s)" != Linux ]; then
	echo "bench/run.sh: Linux only (it reads /proc and uses syncfs)" >&2
	exit 1
fi

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Baselines and tools, from the distribution.
missing=()
command -v curl >/dev/null || missing+=(curl)
command -v unzip >/dev/null || missing+=(unzip)
command -v python3 >/dev/null || missing+=(python3)
[ -x /usr/bin/time ] || missing+=(time)
command -v tar >/dev/null || missing+=(tar)
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}" >&2
	if ! command -v apt-get >/dev/null; then
		echo "bench/run.sh: please install ${missing[*]} (no apt-get here)" >&2
		exit 1
	fi
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" ca-certificates >/dev/null
fi

# Go: the version go.mod asks for. A Go of 1.21 or later fetches it by
# itself (GOTOOLCHAIN=auto); anything older, or none, gets the official
# release unpacked under the scratch folder.
want="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$repo/go.mod")"
gobin=""
if command -v go >/dev/null; then
	have="$(go env GOVERSION 2>/dev/null | sed 's/^go//')"
	major="${have%%.*}"
	rest="${have#*.}"
	minor="${rest%%.*}"
	if [ "${major:-0}" -gt 1 ] || { [ "${major:-0}" -eq 1 ] && [ "${minor:-0}" -ge 21 ]; }; then
		gobin="$(command -v go)"
	fi
fi
if [ -z "$gobin" ]; then
	case "$(uname -m)" in
	x86_64) arch=amd64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*)
		echo "bench/run.sh: no Go for $(uname -m); install Go $want" >&2
		exit 1
		;;
	esac
	goroot="$work/go$want"
	if [ ! -x "$goroot/bin/go" ]; then
		echo "downloading Go $want" >&2
		mkdir -p "$goroot.tmp"
		curl -fsSL "https://go.dev/dl/go$want.linux-$arch.tar.gz" | tar -xz -C "$goroot.tmp" --strip-components=1
		mv "$goroot.tmp" "$goroot"
	fi
	gobin="$goroot/bin/go"
fi

bin="$work/bin"
mkdir -p "$bin"
echo "building modup and the harness with $("$gobin" version)" >&2
(cd "$repo" && "$gobin" build -trimpath -o "$bin/modup" ./cmd/modup && "$gobin" build -trimpath -o "$bin/modupbench" ./bench/cmd/modupbench)

run="$work/run"
rm -rf "$run"
exec "$bin/modupbench" run -modup "$bin/modup" -work "$run" ${quick[@]+"${quick[@]}"} ${args[@]+"${args[@]}"}
