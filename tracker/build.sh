#!/usr/bin/env bash
# Builds the tracker by hand (never run by cargo): src/waymark.js -> dist/script.js (core) and
# dist/script.full.js (core + optional auto-captured events), then writes dist/SIZES.txt.
# Needs node + npm; installs the pinned terser into tracker/node_modules on first use.
set -euo pipefail
cd "$(dirname "$0")"
[ -x node_modules/.bin/terser ] || npm ci --no-audit --no-fund
mkdir -p dist

build() { # build OUT FULL
  node_modules/.bin/terser src/waymark.js \
    --define "FULL=$2" \
    --compress passes=3,unsafe_arrows=true,ecma=2015 \
    --mangle \
    --format ascii_only=true,comments=false,ecma=2015 \
    --output "dist/$1"
}
build script.js false
build script.full.js true

{
  echo "Waymark tracker sizes (bytes), written by build.sh"
  printf '%-16s %7s %9s\n' file raw "gzip -9"
  for f in script.js script.full.js; do
    printf '%-16s %7d %9d\n' "$f" "$(wc -c <"dist/$f")" "$(gzip -9c "dist/$f" | wc -c)"
  done
} >dist/SIZES.txt
cat dist/SIZES.txt

gz=$(gzip -9c dist/script.js | wc -c)
if [ "$gz" -ge 1536 ]; then echo "dist/script.js is $gz bytes gzipped: over the 1536-byte budget" >&2; exit 1; fi
