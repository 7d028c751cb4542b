#!/usr/bin/env bash
# Make .venv with Python 3.10 (Rasa 3.6 supports 3.8-3.10) and install the pinned dependencies.
# Idempotent: re-running only syncs the venv with requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  # A working python3.10 on PATH (the pyenv shim fails unless PYENV_VERSION is set, so try it).
  if command -v python3.10 >/dev/null 2>&1 && python3.10 -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    command -v python3.10; return
  fi
  # pyenv's installed 3.10.x, newest first.
  local root
  root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  local candidate
  for candidate in $(ls -d "$root"/versions/3.10.*/bin/python3 2>/dev/null | sort -V -r) /usr/bin/python3.10 /usr/local/bin/python3.10; do
    if [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      echo "$candidate"; return
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  PY=$(find_python310) || { echo "error: Python 3.10 not found (install it, e.g. 'pyenv install 3.10')" >&2; exit 1; }
  echo "==> creating .venv with $PY"
  "$PY" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  echo "==> installing uv into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check 'uv==0.13.9'
fi
echo "==> syncing .venv with requirements.lock"
.venv/bin/uv pip sync --quiet --python .venv/bin/python requirements.lock
touch .venv/.installed
