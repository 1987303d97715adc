#!/usr/bin/env bash
# Shared by scripts/slow-setup.d/*-engines-*.sh: builds pinned upstream Go binaries once, from the Go
# module proxy, into a version-keyed cache outside the repository; a second run reuses them.
#   IH_ENGINES_CACHE  the cache (default: ~/.cache/cdk8s-identity-health/engines)
# Each binary lands in $IH_ENGINES_CACHE/<name>-<version>/<name>; tests find it through
# test/slow/engines.ts (engineBin) or the manifest $IH_ENGINES_CACHE/manifest.tsv (name, version, path).
set -euo pipefail
IH_ENGINES_CACHE=${IH_ENGINES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk8s-identity-health/engines}
export IH_ENGINES_CACHE
mkdir -p "$IH_ENGINES_CACHE"

# record NAME VERSION PATH: (re)write this engine's line in the manifest.
engine_record() {
  local manifest="$IH_ENGINES_CACHE/manifest.tsv" tmp
  tmp=$(mktemp "$IH_ENGINES_CACHE/.manifest.XXXXXX")
  { grep -v -P "^\Q$1\E\t" "$manifest" 2>/dev/null || true; printf '%s\t%s\t%s\n' "$1" "$2" "$3"; } | sort >"$tmp"
  mv "$tmp" "$manifest"
}

# engine_build NAME VERSION MODULE PACKAGE [GO_MOD_LINES]
#   Builds PACKAGE (an import path inside MODULE@VERSION) as NAME, in a throwaway module that requires
#   MODULE@VERSION; GO_MOD_LINES (optional) are appended to its go.mod (replace/require pins, e.g.
#   k8s.io staging modules pinned to the release). Skips the build when the binary is cached.
#   Extra build flags: ENGINE_LDFLAGS, ENGINE_TAGS, ENGINE_CGO (default 0).
engine_build() {
  local name=$1 version=$2 module=$3 pkg=$4 extra=${5:-}
  local dir="$IH_ENGINES_CACHE/$name-$version" bin
  bin="$dir/$name"
  if [ -x "$bin" ]; then
    echo "engines: $name $version (cached: $bin)"
    engine_record "$name" "$version" "$bin"
    return 0
  fi
  command -v go >/dev/null || { echo "engines: Go is needed to build $name ($module@$version): install Go >= 1.22" >&2; return 1; }
  local work log
  work=$(mktemp -d)
  log="$dir.build.log"
  echo "engines: building $name from $module@$version (log: $log)"
  # Wall time depends on the machine's load; user+sys CPU seconds do not (a 2-core machine needs about half as wall time).
  local times TIMEFORMAT='%0R s wall, %0U s user + %0S s sys CPU'
  if ! times=$( { time ( {
    # Each step must succeed (set -e does not apply inside an `if` condition).
    cd "$work" &&
    go mod init ih-engine-build >/dev/null 2>&1 &&
    printf 'require %s %s\n%s\n' "$module" "$version" "$extra" >>go.mod &&
    printf 'package main\n\nimport _ "%s"\n' "$pkg" >tools.go &&
    GOFLAGS=-mod=mod go mod tidy &&
    mkdir -p "$dir.tmp" &&
    CGO_ENABLED=${ENGINE_CGO:-0} nice -n 10 go build -mod=mod -trimpath ${ENGINE_TAGS:+-tags "$ENGINE_TAGS"} \
      -ldflags "${ENGINE_LDFLAGS:-} -s -w" -o "$dir.tmp/$name" "$pkg"
  } >"$log" 2>&1 ); } 2>&1 ); then
    echo "engines: FAILED to build $name from $module@$version (package $pkg); last lines of $log:" >&2
    tail -n 30 "$log" >&2
    rm -rf "$work" "$dir.tmp"
    return 1
  fi
  rm -rf "$work" "$dir"
  mv "$dir.tmp" "$dir"
  echo "engines: built $name $version in $times"
  echo "$times" >"$dir/build-time"
  engine_record "$name" "$version" "$bin"
}

# engine_asset NAME VERSION MODULE FILE...
#   Copies FILEs (paths inside MODULE@VERSION's module zip: upstream manifests, CRDs) next to the
#   built binary, $IH_ENGINES_CACHE/<name>-<version>/<basename>, for the tests to install as-is.
engine_asset() {
  local name=$1 version=$2 module=$3 dir src f
  shift 3
  dir="$IH_ENGINES_CACHE/$name-$version"
  src=$(cd "$(mktemp -d)" && go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$src" ] || { echo "engines: could not download $module@$version for its files $*" >&2; return 1; }
  mkdir -p "$dir"
  for f in "$@"; do
    [ -f "$src/$f" ] || { echo "engines: $module@$version has no file $f" >&2; return 1; }
    cp "$src/$f" "$dir/" && chmod u+w "$dir/$(basename "$f")"
  done
}
