#!/usr/bin/env bash
# The whole test suite: every unit, integration and end-to-end test under nextest, then the
# doc tests (nextest does not run those). Installs what the tests need on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo nextest --version >/dev/null 2>&1; then
    cargo install --locked cargo-nextest
fi
# The systemd unit test runs `systemd-analyze verify` (Debian package `systemd`); it fails,
# never skips, without it.
if ! command -v systemd-analyze >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd
fi
# `tend export kubernetes` is checked with kubernetes-validate from target/py-venv.
scripts/py-venv.sh >/dev/null
profile=default
[ "${CI:-}" = "true" ] && profile=ci
# Tests run the `tend` binary and the daemon example: build them before any test starts the
# clock on nextest's per-test timeout.
cargo build --workspace --bins --examples
cargo nextest run --workspace --profile "$profile" "$@"
cargo test --workspace --doc
# The web UI in a real browser (Playwright + Debian's chromium, installed when missing).
scripts/ui-test.sh
