#!/usr/bin/env bash
# HAProxy for the production layout (make run-prod, make drills, tests/e2e/test_production_config.py):
# Debian's package, installed with apt-get when missing and allowed (root); otherwise says how.
set -euo pipefail
if command -v haproxy >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing HAProxy (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
  exit 0
fi
echo "HAProxy is not installed: sudo apt-get install haproxy (or your system's package)" >&2
exit 1
