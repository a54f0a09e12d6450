#!/usr/bin/env bash
# Installs the Redis client tools and redis-py that the compatibility tests drive, only when
# they are missing. Debian's packages and PyPI are the only sources used.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if ! command -v redis-cli >/dev/null 2>&1 || ! command -v redis-benchmark >/dev/null 2>&1; then
    echo "installing redis-tools from Debian's packages"
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-tools >/dev/null
fi
if ! python3 -c 'import redis' >/dev/null 2>&1; then
    echo "installing redis-py from PyPI"
    python3 -m pip install -q redis 2>/dev/null || python3 -m pip install -q --break-system-packages redis
fi
