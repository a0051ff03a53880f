#!/usr/bin/env bash
# Quick start, command 1: install what is needed, then run the gateway with the Tapanuli Utara
# configuration. With no radio configured (audio.device empty) it synthesises and processes a demo
# morning of camat reports, stores recordings and rows under ./data, and keeps running (Ctrl-C stops).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/ht-gateway --config config/tapanuli-utara.toml --data-dir data run "$@"
