#!/usr/bin/env bash
# The web UI's browser tests: Playwright (Python) driving Debian's headless chromium against
# a real `tend daemon` (crates/tend-tests/ui). Installs the Python packages into
# target/py-venv and chromium when missing (scripts/py-venv.sh); needs the debug `tend`
# binary (built here). Extra arguments go to pytest (`-k login`, `-x`).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(scripts/py-venv.sh)
# The same build as scripts/test.sh's, so nothing is built twice with other features.
cargo build --workspace --bins --examples
exec "$venv/bin/python" -m pytest crates/tend-tests/ui -p no:cacheprovider --timeout 60 "$@"
