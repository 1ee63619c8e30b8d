#!/usr/bin/env bash
# The whole test suite: every unit, integration and end-to-end test under nextest, then the
# doc tests (nextest does not run those). Installs what the tests need on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo nextest --version >/dev/null 2>&1; then
    cargo install --locked cargo-nextest
fi
profile=default
[ "${CI:-}" = "true" ] && profile=ci
cargo nextest run --workspace --profile "$profile" "$@"
cargo test --workspace --doc
