#!/usr/bin/env bash
# Installs everything snellen needs on a Debian machine (run as root): the system packages
# (TeX, SVG and OCR tools, Chromium for the report tests, a JDK for Processing) and a
# virtualenv at .venv with the package and its pinned dependencies. Idempotent: when nothing
# changed since the last run it returns in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  openjdk-17-jdk-headless
  texlive-latex-base texlive-pictures texlive-latex-extra preview-latex-style
  librsvg2-bin tesseract-ocr tesseract-ocr-eng
  chromium bubblewrap
  dataset-fashion-mnist
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A JDK that is already on the machine (not from Debian's package) is fine too.
if command -v javac >/dev/null 2>&1; then
  missing=("${missing[@]/openjdk-17-jdk-headless}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.snellen-installed
want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing python packages into .venv"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
