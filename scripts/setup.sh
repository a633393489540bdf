#!/usr/bin/env bash
# Installs what the project needs on Debian/Ubuntu: system packages (as root or through sudo),
# a virtual environment in .venv and the package with its test extras. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(python3 python3-venv python3-dev build-essential libsqlite3-mod-spatialite
              postgresql postgresql-contrib chromium fonts-noto-cjk)
# fonts-noto-cjk: headless Chromium has no Chinese font otherwise (the screenshots show boxes).
PG_MAJOR=""
if command -v pg_config >/dev/null 2>&1; then PG_MAJOR="$(pg_config --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')"; fi
if [ -z "$PG_MAJOR" ] && ls /usr/lib/postgresql >/dev/null 2>&1; then PG_MAJOR="$(ls /usr/lib/postgresql | sort -n | tail -1)"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ -n "$PG_MAJOR" ]; then
  dpkg -s "postgresql-$PG_MAJOR-postgis-3" >/dev/null 2>&1 || missing+=("postgresql-$PG_MAJOR-postgis-3")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  if [ -z "$PG_MAJOR" ] && ls /usr/lib/postgresql >/dev/null 2>&1; then
    PG_MAJOR="$(ls /usr/lib/postgresql | sort -n | tail -1)"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$PG_MAJOR-postgis-3" >/dev/null
  fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# pip's own notices go to a log; it is shown only when the installation fails.
if ! { .venv/bin/python -m pip install -q --upgrade pip &&
       .venv/bin/python -m pip install -q -e '.[test]'; } > .venv/pip-install.log 2>&1; then
  cat .venv/pip-install.log >&2
  echo "installing the Python packages failed (log above, also in .venv/pip-install.log)" >&2
  exit 1
fi
