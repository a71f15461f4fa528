#!/usr/bin/env bash
# GPU check: measure the throughput constants of the cost model (lib/resurface/book/costs.py) on a GPU.
#
# Who runs it: anyone with a CUDA GPU (an H100 is what the estimate assumes; another GPU gives its own
# numbers, recorded with its name). No Hub access is needed: the model is a randomly initialised
# Qwen2.5-0.5B-shaped network and the default suite is the offline `course` suite.
#
#   conda env create -f environment.yml && conda activate resurface     # CUDA torch + the pins
#   pip install -r requirements-vllm.txt                                # optional: the vLLM engine (README)
#   bash benchmarks/gpu_check.sh                                        # about 5-10 minutes
#   bash benchmarks/gpu_check.sh --suites course,paper-zero-shot --allow-hub   # the paper suites too
#   bash benchmarks/gpu_check.sh --dry-run                              # CPU-safe: arguments and plan only
#
# It writes benchmarks/gpu_measured.json; `resurface figures --profile paper --estimate` then says
# "measured" instead of "assumed". Commit the JSON and add a line to benchmarks/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
if [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && ! command -v nvidia-smi >/dev/null 2>&1; then
  PY=.venv/bin/python   # a CPU checkout: only --dry-run is useful here
fi
if [[ " $* " != *" --dry-run "* ]]; then
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
fi
export PYTHONHASHSEED=42 CUBLAS_WORKSPACE_CONFIG=:4096:8 VLLM_DETERMINISTIC_OPS=1 TOKENIZERS_PARALLELISM=false
exec "$PY" benchmarks/gpu_check.py "$@"
