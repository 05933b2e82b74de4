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
  cmake build-essential
  dataset-fashion-mnist libgl1-mesa-dri libegl1 libegl-mesa0
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Processing renderer's Java sandbox needs the SecurityManager, which JDK 24 removed: use a
# JDK 17 or 21 explicitly, whatever `java` on the PATH is. snellen finds it the same way.
jdk=""
for home in "${SNELLEN_JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-* /usr/lib/jvm/java-21-openjdk-*; do
  if [ -n "$home" ] && [ -x "$home/bin/javac" ]; then jdk=$home; break; fi
done
if [ -z "$jdk" ]; then
  echo "setup: error: no JDK 17 or 21 found (the Processing sandbox needs the SecurityManager," >&2
  echo "setup: error: which JDK 24 removed); install openjdk-17-jdk-headless or set SNELLEN_JAVA_HOME" >&2
  exit 1
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi

# llama-cpp-python (the fast engine for the bundled GGUF model) compiles from source. A plain
# build is native to the build machine's CPU and can crash on another one (or even here, when
# the compiler's idea of the CPU is wrong), so it is built for a portable x86-64 baseline
# (AVX2/FMA/F16C; no AVX-512, no AMX), pinned, and cached under a name that carries its flags:
# pip's own wheel cache would hand back a wheel built earlier with other flags.
LLAMA_VERSION=0.3.36
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_CPU_ALL_VARIANTS=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_AVX_VNNI=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
if [ "$(uname -m)" != "x86_64" ]; then LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_CURL=OFF"; fi
llama_tag=$(printf '%s %s' "$LLAMA_VERSION" "$LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)
llama_stamp=.venv/.llama-cpp-build
if [ ! -f "$llama_stamp" ] || [ "$(cat "$llama_stamp")" != "$llama_tag" ]; then
  wheels="${SNELLEN_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/snellen/wheels}/llama-cpp-$LLAMA_VERSION-$llama_tag"
  if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "setup: compiling llama-cpp-python $LLAMA_VERSION for a portable x86-64 baseline (about 5 minutes, once)"
    mkdir -p "$wheels"
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
      .venv/bin/pip wheel -q --no-cache-dir --no-deps --no-binary llama-cpp-python \
      -w "$wheels" "llama-cpp-python==$LLAMA_VERSION"
  fi
  .venv/bin/pip install -q --no-deps --force-reinstall "$wheels"/llama_cpp_python-*.whl
  echo "$llama_tag" > "$llama_stamp"
  rm -f .venv/share/snellen/llama-cpp-check.json
fi

stamp=.venv/.snellen-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing python packages into .venv"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[dev]'
  # The engine is tried once in a child process: if this build crashes on this CPU, local GGUF
  # models use the transformers engine instead (one line below says which).
  .venv/bin/python -m snellen.llm.enginecheck
  echo "$want" > "$stamp"
fi
