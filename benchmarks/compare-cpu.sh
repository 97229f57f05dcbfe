#!/usr/bin/env bash
# One sitting, one table: Retort beside its peers on this machine's CPU, each row with Retort's ratio to the best
# peer and its target: GEMM ≥ 1.0× numpy; each training step ≤ 0.9× the best of DJL and PyTorch, the cnn-student
# hinton step ≤ 0.5×; eval forward ≥ 1.0× the best peer and ≥ 3× Retort's own training throughput.
#   - GEMM 1024³ (GFLOP/s): Retort's GemmBenchmark.gemm1024 and numpy's OpenBLAS (pytorch/numpy_gemm.py);
#   - training steps, batch 128 (ms): mlp-teacher, cnn-teacher, cnn-student (cross-entropy) and the cnn-student
#     hinton step with cached teacher logits, in Retort (JMH: TrainingStepBenchmark, StudentStepBenchmark), DJL with
#     libtorch 2.7.1 (djl/, djl-bench.jar) and PyTorch 1.13 (pytorch/train_step.py);
#   - eval forward of cnn-teacher, batch 500 (images/s): Retort's EvalForwardBenchmark and the same two peers,
#     and beside it Retort's own training throughput of cnn-teacher (images/s, from its step).
# The peers run before and after Retort, each under a few thread/BLAS configurations; each keeps its best figure.
#
# Usage: benchmarks/compare-cpu.sh [REPORT.md]        (default benchmarks/results/<date>-cpu-peers.md)
# Environment:
#   RETORT_JVM_FLAGS     extra JVM flags for Retort, e.g. -XX:MaxVectorSize=32 for the 256-bit kernels on an AVX-512
#                        machine. Several configurations, separated by ';', run one after the other in the same
#                        sitting, one table each: RETORT_JVM_FLAGS='; -XX:MaxVectorSize=32' gives the default and the
#                        256-bit one. The report names each configuration's flags and vector width.
#   REHEARSAL=1          short runs (figures meaningless) to check the script end to end; the report defaults to
#                        /tmp/compare-cpu-rehearsal.md and may not go to benchmarks/results/.
#   SECONDS_PER_MEASURE  seconds each peer times each measure (default 10, rehearsal 1), after a warm-up of a third
#                        of that (at least 2 s).
#   JMH_ARGS             JMH's iteration options (default: each benchmark's own; rehearsal "-wi 1 -i 1 -w 1 -r 1").
#   SKIP_BUILD=1         use the jars already built (engine in ~/.m2, benchmarks.jar, djl-bench.jar).
# Needs: Maven Central once for the build (the DJL jars, about 120 MB), nothing at run time; /usr/bin/python3 with
# Debian's python3-torch and numpy, and numpy on OpenBLAS (apt-get install libopenblas0-pthread), which
# pytorch/numpy_gemm.py checks: on the reference BLAS the script stops rather than compare with a 5 GFLOP/s GEMM.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "${REHEARSAL:-}" = 1 ]; then
  report=${1:-/tmp/compare-cpu-rehearsal.md}
  case "$(realpath -m "$report")" in
    "$(pwd)"/benchmarks/results/*)
      echo "compare-cpu: a rehearsal's figures are not results; write its report outside benchmarks/results/" >&2
      exit 2 ;;
  esac
  seconds=${SECONDS_PER_MEASURE:-1}
  jmh_args=${JMH_ARGS:--wi 1 -i 1 -w 1 -r 1}
else
  report=${1:-benchmarks/results/$(date +%F)-cpu-peers.md}
  seconds=${SECONDS_PER_MEASURE:-10}
  jmh_args=${JMH_ARGS:-}
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
measures="mlp-teacher cnn-teacher cnn-student cnn-student-hinton cnn-teacher-eval"
# All cores, counted from /proc: on some VMs the JVM's availableProcessors() now and then says 1, and Retort's
# kernels size their thread team from it, so Retort's thread count is given explicitly.
cores=$(grep -c '^processor' /proc/cpuinfo)
IFS=';' read -r -a retort_configs <<< "${RETORT_JVM_FLAGS:-}"
[ ${#retort_configs[@]} -eq 0 ] && retort_configs=("")

if [ "${SKIP_BUILD:-}" != 1 ]; then
  echo "compare-cpu: building the engine, benchmarks.jar and djl-bench.jar" >&2
  mvn -q -B -DskipTests install
  (cd benchmarks && mvn -q -B -DskipTests package)
  (cd benchmarks/djl && mvn -q -B -DskipTests package)
fi

# numpy must run on OpenBLAS; numpy_gemm.py exits 3 with the reason otherwise.
$py benchmarks/pytorch/numpy_gemm.py --seconds 0.1 > /dev/null 2> "$work/numpy-check.txt" || {
  cat "$work/numpy-check.txt" >&2
  echo "compare-cpu: no fair GEMM peer, stopping" >&2
  exit 1
}

# Peer configurations, "name|command prefix". OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set on these machines for old
# OpenBLAS builds and pin OpenBLAS to its AVX2 kernels; unsetting them ("autocore") lets it pick its own (AVX-512
# where the CPU has it). OpenMP and OpenBLAS threads oversubscribe a 2-core machine unless one side is held to one
# thread. libtorch in DJL brings its own BLAS, oneDNN and OpenMP; its thread count is set explicitly, since its
# default follows the same core count the JVM misreads.
numpy_configs=(
  "as-installed|"
  "autocore|env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"
)
pytorch_configs=(
  "as-installed|"
  "autocore,omp1|env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1"
  "autocore,blas1,torch1|env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1"
  "autocore,passive|env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE"
)
djl_configs=(
  "threads$cores|-Dai.djl.pytorch.num_threads=$cores"
  "threads1|-Dai.djl.pytorch.num_threads=1"
)

# run_peers ROUND: numpy, DJL and PyTorch under each of their configurations, one line per measure into
# $work/peers.txt as "ROUND CONFIG SYSTEM NAME BATCH MS STEPS".
# shellcheck disable=SC2086  # $prefix is a word list, split on purpose
run_peers() {
  local round=$1 entry name prefix
  echo "compare-cpu: peers, $round Retort" >&2
  for entry in "${numpy_configs[@]}"; do
    name=${entry%%|*} prefix=${entry#*|}
    $prefix $py benchmarks/pytorch/numpy_gemm.py --seconds "$seconds" 2>> "$work/numpy.log" \
      | sed "s/^/$round $name /" >> "$work/peers.txt"
  done
  for entry in "${djl_configs[@]}"; do
    name=${entry%%|*} prefix=${entry#*|}
    java -Dai.djl.offline=true $prefix -jar benchmarks/djl/target/djl-bench.jar --seconds "$seconds" $measures \
      2>> "$work/djl.log" | sed "s/^/$round $name /" >> "$work/peers.txt"
  done
  for entry in "${pytorch_configs[@]}"; do
    name=${entry%%|*} prefix=${entry#*|}
    $prefix $py benchmarks/pytorch/train_step.py --seconds "$seconds" $measures \
      | sed "s/^/$round $name /" >> "$work/peers.txt"
  done
}

# run_retort INDEX FLAGS: the JMH benchmarks of the table under FLAGS, into $work/retort-INDEX-*.json, and the
# kernels' description (vector width, threads) into $work/retort-INDEX.kernels.
run_retort() {
  local index=$1 flags=$2 jvm
  jvm="-Dretort.threads=$cores $flags"
  echo "compare-cpu: Retort${flags:+ with $flags}" >&2
  java --add-modules=jdk.incubator.vector $jvm -cp benchmarks/target/benchmarks.jar dev.retort.bench.CpuKernels \
    2> /dev/null > "$work/retort-$index.kernels"
  # -jvmArgsPrepend adds to each benchmark's own @Fork flags (the Vector API module among them) instead of
  # replacing them, as -jvmArgsAppend would.
  # shellcheck disable=SC2086
  java -jar benchmarks/target/benchmarks.jar \
    '\.(GemmBenchmark\.gemm1024|TrainingStepBenchmark\.step|StudentStepBenchmark\.)' -p impl=vector \
    -jvmArgsPrepend "$jvm" $jmh_args -rf json -rff "$work/retort-$index-steps.json" > "$work/retort-$index.jmh.txt"
  # shellcheck disable=SC2086
  java -jar benchmarks/target/benchmarks.jar '\.EvalForwardBenchmark\.' -p model=cnn-teacher \
    -jvmArgsPrepend "$jvm" $jmh_args -rf json -rff "$work/retort-$index-eval.json" >> "$work/retort-$index.jmh.txt"
  printf '%s\n' "$flags" > "$work/retort-$index.flags"
}

run_peers before
for i in "${!retort_configs[@]}"; do
  run_retort "$i" "$(echo "${retort_configs[$i]}" | xargs)"
done
run_peers after

# The machine, for the report's header.
{
  echo "cpu=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: *//')"
  echo "family=$(grep -m1 '^cpu family' /proc/cpuinfo | sed 's/.*: *//')"
  echo "model=$(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | sed 's/.*: *//')"
  echo "isa=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'avx2|fma|avx512f|avx512_bf16|avx512vl' | paste -sd' ')"
  echo "cores=$cores"
  echo "java=$(java -version 2>&1 | head -n 1)"
  echo "numpy=$(grep -m1 '^numpy_gemm:' "$work/numpy.log" | sed 's/^numpy_gemm: numpy //')"
  echo "djl=$(grep -m1 '^djl-bench:' "$work/djl.log" | sed 's/^djl-bench: //; s/;.*//')"
  echo "torch=$($py -c 'import torch; print(torch.__version__)')"
  echo "seconds=$seconds"
  echo "jmh_args=$jmh_args"
  echo "rehearsal=${REHEARSAL:-0}"
} > "$work/machine.txt"

$py benchmarks/compare_report.py "$work" "${#retort_configs[@]}" "$report"
echo "compare-cpu: wrote $report" >&2
