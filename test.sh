#!/usr/bin/env bash
# Runs Waymark's whole test suite against real components: the embedded DuckDB store, and
# headless Chromium for the tracker tests (installed from Debian's packages when missing).
# Under CI=true a missing component is an error, never a silent skip.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/waymark-target}

need_pkg() { # need_pkg <command> <debian packages...>
  local cmd=$1; shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  echo "==> installing $* from Debian's packages"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null; }; then
    echo "error: could not install $* (needed for the tests)" >&2
    return 1
  fi
}
# ccache only speeds up DuckDB's C++ build (scripts/cxx uses it when present); optional.
need_pkg ccache ccache || echo "note: building without ccache"
need_pkg chromium chromium chromium-driver
export WAYMARK_CHROMIUM=${WAYMARK_CHROMIUM:-$(command -v chromium)}

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --release --workspace --all-targets -q -- -D warnings
echo "==> cargo test"
cargo test --release --workspace -q "$@"
echo "==> all tests passed"
