#!/usr/bin/env bash
# Issue 20, part 5, prepared for a CUDA machine and not yet run (no GPU was lent to the task that wrote it).
#
#   OUT=/tmp/gpu-scale benchmarks/gpu_scale.sh
#
# Needs the checkout's .venv with ray installed (pip install 'bench-harness[dev]'), and for step 3 the model
# smollm2-135m-instruct already converted in BENCH_CACHE (the GPU machine reaches no network: bring the
# cache along). Every figure lands under $OUT; copy the ones that matter into benchmarks/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-scale}
mkdir -p "$OUT"
nvidia-smi -L | tee "$OUT/gpus.txt"
GPUS=$(nvidia-smi -L | wc -l)
PYTEST=(.venv/bin/python -m pytest -q -p no:cacheprovider -s)

# 1. Variants as Ray tasks on CUDA: the test gives each task a quarter of a GPU when CUDA is there, and compares
#    the per-item outputs with a local run on the same GPU.
"${PYTEST[@]}" tests/test_ray_executor.py 2>&1 | tee "$OUT/test_ray_executor.log"

# 2. One variant over several processes. One GPU cannot host two NCCL ranks, so with one GPU the DDP test
#    runs on the CPU (gloo) as in CI; with two or more it runs as is, on CUDA over NCCL.
if [ "$GPUS" -ge 2 ]; then
  "${PYTEST[@]}" tests/test_accelerate_launch.py 2>&1 | tee "$OUT/test_accelerate_launch.log"
else
  CUDA_VISIBLE_DEVICES= "${PYTEST[@]}" tests/test_accelerate_launch.py 2>&1 | tee "$OUT/test_accelerate_launch.log"
fi

# 3. The shipped suite on CUDA, locally and through Ray (1 GPU shared by the tasks: num_gpus 0.25 each).
.venv/bin/bench run suites/legal_classifier.yaml --out "$OUT/legal-local" --store "$OUT/store-local" \
  2>&1 | tee "$OUT/legal-local.log"
# The suite names its data relative to its own folder, so its Ray copy sits beside it for the run.
cp suites/legal_classifier.yaml suites/.legal_classifier_ray.yaml
printf '\nexecution:\n  resources: {num_cpus: 2, num_gpus: 0.25}\n' >> suites/.legal_classifier_ray.yaml
.venv/bin/bench run suites/.legal_classifier_ray.yaml --executor ray --out "$OUT/legal-ray" \
  --store "$OUT/store-ray" 2>&1 | tee "$OUT/legal-ray.log"
rm -f suites/.legal_classifier_ray.yaml

# 4. Throughput and memory of lora, qlora (bitsandbytes' CUDA kernels) and full at SmolLM2 shapes, random weights.
for shape in smollm2-135m smollm2-1.7b; do
  .venv/bin/python benchmarks/gpu_variants.py --device cuda --shape "$shape" --json "$OUT/gpu_variants-$shape.json" \
    2>&1 | tee "$OUT/gpu_variants-$shape.log"
done
