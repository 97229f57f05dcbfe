#!/usr/bin/env bash
# Side by side in one run: a whole training step (batch 128) of mlp-teacher and cnn-teacher in Retort
# (JMH, TrainingStepBenchmark) and in PyTorch eager (pytorch/train_step.py), on this machine.
# PyTorch runs under several thread/BLAS configurations and Retort is compared with the best of them.
#
# Usage: benchmarks/compare-cpu.sh [REPORT.md]   (default benchmarks/results/<date>-cpu-train-step.md)
# A quick rehearsal: SECONDS_PER_MODEL=2 JMH_ARGS="-wi 1 -i 1 -w 1 -r 1" benchmarks/compare-cpu.sh /tmp/r.md
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
report=${1:-benchmarks/results/$(date +%F)-cpu-train-step.md}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
models="mlp-teacher cnn-teacher"
seconds=${SECONDS_PER_MODEL:-12}

mvn -q -B -DskipTests install
(cd benchmarks && mvn -q -B -DskipTests package)

# PyTorch configurations. OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set on these machines for old
# OpenBLAS builds; unsetting them lets Debian's OpenBLAS pick its AVX-512 kernels (checked correct by
# train_step.py's own GEMM check), and OpenMP/OpenBLAS threads oversubscribe 2 cores unless one of
# them is held to one thread.
configs=(
  "as-installed|"
  "avx512,omp1|env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1"
  "avx512,blas1,torch1|env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1"
  "avx512,passive|env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE"
)
run_pytorch() {
  local tag=$1
  for entry in "${configs[@]}"; do
    local name=${entry%%|*} prefix=${entry#*|}
    $prefix $py benchmarks/pytorch/train_step.py --seconds "$seconds" $models \
      | sed "s/^/$tag $name /" >> "$work/pytorch.txt"
  done
}

run_pytorch before
java -jar benchmarks/target/benchmarks.jar '\.TrainingStepBenchmark\.' ${JMH_ARGS:-} -rf json -rff "$work/retort.json" \
  | tee "$work/jmh.txt" | grep -E '^(Benchmark|TrainingStep)' || true
run_pytorch after

$py - "$work/pytorch.txt" "$work/retort.json" "$report" <<'PY'
import json, subprocess, sys, datetime
pytorch_file, retort_file, report = sys.argv[1:4]
rows = [line.split() for line in open(pytorch_file)]
torch_ms = {}
for tag, config, _, model, batch, ms, steps in rows:
    torch_ms.setdefault(model, {}).setdefault(config, []).append(float(ms))
retort = {}
for r in json.load(open(retort_file)):
    retort[r["params"]["model"]] = (float(r["primaryMetric"]["score"]), float(r["primaryMetric"]["scoreError"]))
cpu = subprocess.run(["sh", "-c", "lscpu | grep 'Model name' | sed 's/.*: *//'"], capture_output=True, text=True).stdout.strip()
lines = [f"# CPU training step: Retort vs PyTorch ({datetime.date.today()})", "",
         f"Machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, "
         f"{subprocess.run(['java', '-version'], capture_output=True, text=True).stderr.splitlines()[0]}.",
         "Batch 128; one step = forward, cross-entropy, backward, SGD with momentum. Retort: JMH average "
         "(± 99.9% error); PyTorch: ms per step of each configuration, run before and after Retort (best kept).", "",
         "| model | Retort ms | PyTorch best ms (config) | Retort / PyTorch | all PyTorch configs (before / after) |",
         "|---|---|---|---|---|"]
for model in torch_ms:
    best_config, best = min(((c, min(v)) for c, v in torch_ms[model].items()), key=lambda t: t[1])
    ms, err = retort.get(model, (float("nan"), float("nan")))
    detail = "; ".join(f"{c}: {' / '.join(f'{x:.1f}' for x in v)}" for c, v in torch_ms[model].items())
    lines.append(f"| {model} | {ms:.1f} ± {err:.1f} | {best:.1f} ({best_config}) | {ms / best:.2f} | {detail} |")
open(report, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
