#!/usr/bin/env bash
# Creates (or refreshes) target/py-venv with the packages in scripts/py-requirements.txt and
# prints its path. Installs Debian's chromium and firefox-esr for the browser tests when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/py-venv
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s scripts/py-requirements.txt "$stamp"; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/py-requirements.txt >&2
    cp scripts/py-requirements.txt "$stamp"
fi
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
echo "$PWD/$venv"
