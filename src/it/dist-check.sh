#!/usr/bin/env bash
# Checks the dist bundle (mvn -Pdist package) on a machine without a GPU, in three steps:
#
#   1. A stale benchmarks.jar is rebuilt: the JMH jar carries its own copy of the engine, so a benchmarks.jar built
#      before the engine last changed must not reach the bundle. The check makes one engine class
#      inside benchmarks/target/benchmarks.jar differ from the engine jar's (as an older engine's would), runs the
#      dist packaging, and requires the bundle's benchmarks.jar to carry exactly the engine jar's classes (CRCs).
#   2. The bundle's benchmarks.jar, run with no benchmark named where no CUDA device is usable, leaves out the Cuda*
#      benchmarks with one line and exits 0. CUDA_VISIBLE_DEVICES= hides any GPU, so this holds on a
#      GPU machine too; the CPU benchmarks but the GEMM are excluded to keep it short.
#   3. The bundle's benchmarks/gpu-check.sh --emulated runs the kernel lab and the Cuda* JMH benchmarks on the
#      emulated CUDA device and writes a report that says so. (doctor and the gpu tests on the emulated device run
#      in .ci/run already; --full adds them here, several minutes more.)
#
# Usage: src/it/dist-check.sh [--full]   (from a checkout; needs Maven, gcc, g++ and nvcc, since the bundle carries
# the kernels; installs the engine jar into ~/.m2 when it rebuilds benchmarks/, as make-dist.sh does)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
sections=environment,kd-lab,jmh
case "${1:-}" in
  "") ;;
  --full) sections=environment,doctor,gpu-tests,kd-lab,jmh ;;
  *) echo "usage: src/it/dist-check.sh [--full]" >&2; exit 2 ;;
esac
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "dist-check: $*" >&2
  exit 1
}

# "CRC name" of the engine's classes in a jar, sorted (as make-dist.sh compares them).
engine_classes() {
  unzip -v "$1" | awk '$NF ~ /^dev\/retort\/.*\.class$/ && $NF !~ /^dev\/retort\/bench\// { print $7, $NF }' | sort
}

# ---- 1. a stale benchmarks.jar is rebuilt ----------------------------------------------------------------------
bench=benchmarks/target/benchmarks.jar
victim=dev/retort/backend/Backends.class
if [ -f "$bench" ]; then
  # An older engine's copy of one class: the same name with other bytes, so its CRC differs from the engine's.
  mkdir -p "$work/stale/$(dirname "$victim")"
  unzip -p "$bench" "$victim" > "$work/stale/$victim"
  printf 'an older engine' >> "$work/stale/$victim"
  jar uf "$bench" -C "$work/stale" "$victim"
  touch -d '2000-01-01' "$bench"
  echo "dist-check: made $bench stale (its $victim differs from the engine's)"
else
  echo "dist-check: there is no $bench yet; the dist packaging must build it"
fi
mvn -B -q -Pdist -DskipTests package | tee "$work/dist.log"
grep -q '^make-dist: building benchmarks/ against this engine' "$work/dist.log" \
  || fail "the dist packaging did not rebuild the stale $bench"
version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -n 1)
engine=target/retort-$version.jar
bundled=target/dist/retort/benchmarks/benchmarks.jar
[ -f "$bundled" ] || fail "the bundle has no benchmarks.jar"
engine_classes "$engine" > "$work/engine.txt"
engine_classes "$bundled" > "$work/bundled.txt"
[ -s "$work/engine.txt" ] || fail "no engine classes found in $engine"
if ! diff -q "$work/engine.txt" "$work/bundled.txt" > /dev/null; then
  diff "$work/engine.txt" "$work/bundled.txt" | head -n 5 >&2
  fail "the bundle's benchmarks.jar carries other engine classes than $engine (first differences above)"
fi
echo "dist-check: the bundle's benchmarks.jar carries the engine's $(wc -l < "$work/engine.txt") classes, $victim included"

# ---- 2. no benchmark named, no usable CUDA device: the Cuda* benchmarks are skipped ------------------------------
# (-Djmh.ignoreLock: this checks the selection, not a measurement, so a JMH run beside it on the machine may stay.)
cd target/dist/retort
status=0
CUDA_VISIBLE_DEVICES= runtime/bin/java -Djmh.ignoreLock=true -jar benchmarks/benchmarks.jar \
  -e Conv2dBenchmark -e '\.TrainingStepBenchmark\.' -p impl=scalar -f 1 -wi 0 -i 1 -r 100ms -foe true \
  > "$work/jmh.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || { tail -n 20 "$work/jmh.log" >&2; fail "benchmarks.jar without a usable GPU exited $status"; }
skipped=$(grep '^benchmarks: the CUDA benchmarks (Cuda\*) are skipped: ' "$work/jmh.log") \
  || fail "benchmarks.jar without a usable GPU did not say that it skipped the CUDA benchmarks"
grep -q '^GemmBenchmark\.gemm1024 ' "$work/jmh.log" || fail "benchmarks.jar did not run the GEMM benchmark"
! grep -q '^# Benchmark: .*\.Cuda' "$work/jmh.log" || fail "benchmarks.jar ran a Cuda* benchmark without a GPU"
echo "dist-check: with no GPU, benchmarks.jar said: ${skipped#benchmarks: }"

# ---- 3. gpu-check.sh on the emulated CUDA device -----------------------------------------------------------------
status=0
benchmarks/gpu-check.sh --emulated --only "$sections" "$work/gpu-check" || status=$?
report=$work/gpu-check/report.md
[ -f "$report" ] || fail "gpu-check.sh --emulated wrote no report"
sed -n '1,/^| pytorch/p' "$report"
[ "$status" -eq 0 ] || { cat "$work"/gpu-check/*.log | tail -n 40 >&2; fail "gpu-check.sh --emulated exited $status"; }
grep -q '^# GPU check on the EMULATED CUDA device' "$report" || fail "the report does not say it ran on the emulated device"
for section in ${sections//,/ }; do
  grep -q "^| $section | PASS |" "$report" || fail "gpu-check.sh --emulated: section $section did not pass"
done
grep -q '^BEST variant=' "$work/gpu-check/kd-lab.log" || fail "the kernel lab did not reach its benchmark"
grep -q '^CudaDistillationBenchmark\.kdLoss ' "$work/gpu-check/jmh.log" || fail "JMH did not run CudaDistillationBenchmark.kdLoss"
echo "dist-check: passed"
