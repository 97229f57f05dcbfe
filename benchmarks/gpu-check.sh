#!/usr/bin/env bash
# The GPU check, run from the unpacked dist bundle (mvn -Pdist package → target/retort-dist.tar.gz):
# the machine, `retort doctor`, the gpu-tagged tests, the GPU JMH benchmarks, the KD kernel lab and the
# PyTorch comparisons, each under its own timeout and all within one budget (default 450 s, under the
# 8 minutes docs/design.md allows). Writes OUTDIR/report.md — each section with its status, exit code and
# time — and one log per section beside it (8 files at most, what a device run brings back).
#
# Usage: benchmarks/gpu-check.sh [--emulated] [--only SECTION,...] OUTDIR   (GPU_CHECK_BUDGET=seconds: the budget)
#   --emulated (or RETORT_EMULATED_CUDA=1): every section on the emulated CUDA device (native/emulated-cuda, built
#     here with gcc and g++) instead of a GPU: a rehearsal of the card run on any machine. The emulator is for
#     truth, not speed, so its timeouts are three times the GPU's (default budget 1800 s), the kernel lab is
#     compiled with g++ against kernels/emulator and validated on 16 rows a case, JMH runs small shapes for one
#     iteration, and PyTorch, which needs a real GPU, is skipped. The report says it ran on the emulated device.
#   --only: just these sections (environment, doctor, gpu-tests, jmh, kd-lab, pytorch); the others are listed
#     as skipped.
# Without a GPU every GPU step fails or skips with its reason, and the report is still written.
# Exit status: 0 when every section that ran passed, 1 when one failed or timed out, 2 on bad usage.
set -uo pipefail

usage="usage: benchmarks/gpu-check.sh [--emulated] [--only SECTION,...] OUTDIR"
sections_known=(environment doctor gpu-tests jmh kd-lab pytorch)
only=""
while [ $# -gt 0 ]; do
  case $1 in
    --emulated) export RETORT_EMULATED_CUDA=1; shift ;;
    --only)
      [ $# -ge 2 ] && [ -n "$2" ] || { echo "$usage" >&2; exit 2; }
      only=",$2,"
      for name in ${2//,/ }; do
        if [[ " ${sections_known[*]} " != *" $name "* ]]; then
          echo "gpu-check: no section '$name'; the sections are ${sections_known[*]}" >&2
          exit 2
        fi
      done
      shift 2 ;;
    -*) echo "gpu-check: unknown option $1; $usage" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -ne 1 ]; then
  echo "$usage" >&2
  exit 2
fi
emulated=0
[ "${RETORT_EMULATED_CUDA:-}" = 1 ] && emulated=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1" || exit 2
out="$(cd "$1" && pwd)"
if ! compgen -G "$root/lib/retort-*.jar" > /dev/null; then
  echo "gpu-check: $root is not an unpacked dist bundle (no lib/retort-*.jar); build one with" \
    "'mvn -Pdist -DskipTests package' and run this from target/dist/retort or the unpacked tarball" >&2
  exit 2
fi
cd "$root"

# slow: how many times a section's GPU timeout it gets (the emulator runs every CUDA thread in turn on one core).
if [ "$emulated" = 1 ]; then
  slow=3
  budget=${GPU_CHECK_BUDGET:-1800}
else
  slow=1
  budget=${GPU_CHECK_BUDGET:-450}
fi

# cuBLAS, cuDNN and NVRTC from pip wheels: the folders the python3 on PATH knows (a venv or conda need not be
# activated), exported for every section below unless RETORT_CUDA_LIBS already names some. Not on the emulated
# device, whose stand-ins are found in its own venv.
if [ "$emulated" = 0 ] && [ -z "${RETORT_CUDA_LIBS:-}" ] && command -v python3 > /dev/null; then
  wheels=$(python3 -c 'import glob, site
for s in site.getsitepackages() + [site.getusersitepackages()]:
    for lib in sorted(glob.glob(s + "/nvidia/*/lib")):
        print(lib)' 2>/dev/null | paste -sd: -)
  if [ -n "$wheels" ]; then
    export RETORT_CUDA_LIBS=$wheels
    echo "gpu-check: RETORT_CUDA_LIBS=$wheels (python3's nvidia/*/lib)" >&2
  fi
fi
# RETORT_EMULATED_CUDA=1: every section runs on the emulated CUDA device (built from the bundle's sources).
if [ "$emulated" = 1 ]; then
  native/emulated-cuda/build.sh emulated-cuda > /dev/null || { echo "gpu-check: the emulated CUDA device did not build" >&2; exit 2; }
  # shellcheck source=/dev/null
  source emulated-cuda/env
fi
started=$SECONDS
if [ -x runtime/bin/java ]; then
  java=runtime/bin/java
elif [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
  java=$JAVA_HOME/bin/java
else
  java=$(command -v java || true)
fi
jvm_flags=(--add-modules=jdk.incubator.vector -Xss4m)

sections=()   # "name|status|exit|seconds|note"
overall=0

# run NAME TIMEOUT COMMAND...: runs one section under min(TIMEOUT × slow, what is left of the budget), logging to
# OUTDIR/NAME.log; records PASS, FAIL or TIMEOUT. A section left out by --only is recorded as skipped.
run() {
  local name=$1 limit=$(($2 * slow))
  shift 2
  if [ -n "$only" ] && [[ "$only" != *",$name,"* ]]; then
    skip "$name" "-"
    return
  fi
  local left=$((budget - (SECONDS - started) - 5))
  if [ "$left" -lt 10 ]; then
    skip "$name" "the ${budget} s budget is spent"
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  local t0=$SECONDS
  echo "gpu-check: $name (timeout ${limit} s)" >&2
  timeout --kill-after=10 "$limit" "$@" > "$out/$name.log" 2>&1
  local code=$?
  local took=$((SECONDS - t0))
  local status=PASS
  if [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; then
    status=TIMEOUT
    overall=1
  elif [ "$code" -ne 0 ]; then
    status=FAIL
    overall=1
  fi
  sections+=("$name|$status|$code|$took|timeout ${limit} s")
}

# skip NAME REASON: records a section that did not run, and why (--only's choice before any other reason).
skip() {
  local reason=$2
  if [ -n "$only" ] && [[ "$only" != *",$1,"* ]]; then
    reason="not asked for (--only ${only:1:-1})"
  fi
  echo "$reason" > "$out/$1.log"
  sections+=("$1|SKIP|-|0|$reason")
}

# ---- 1. the machine ------------------------------------------------------------------------------
environment() {
  echo "command -v java: $(command -v java || echo 'none (the bundle brings its own)')"
  echo "java used: $java"
  "$java" -version 2>&1
  echo
  echo "uname: $(uname -srm)"
  echo "cpus: $(nproc)"
  if command -v nvidia-smi > /dev/null; then
    nvidia-smi -L
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,clocks.max.sm --format=csv
  else
    echo "nvidia-smi: not found"
  fi
  if [ "$emulated" = 1 ]; then
    echo "EMULATED CUDA device: $(sed -n 's/^export //p' emulated-cuda/env | paste -sd' ')"
  fi
  echo
  echo "libcuda.so.1: $( (ldconfig -p 2>/dev/null | grep -m1 'libcuda.so.1') || echo 'not in the loader cache')"
  if command -v python3 > /dev/null; then
    python3 -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1 \
      || echo "python3 has no torch"
  else
    echo "python3: not found"
  fi
}
if [ -z "$java" ]; then
  skip environment "no Java: neither runtime/bin/java, JAVA_HOME nor java on the PATH"
else
  run environment 30 bash -c "$(declare -f environment); java='$java'; emulated=$emulated; environment"
fi

# ---- 2. retort doctor --------------------------------------------------------------------------
run doctor 180 bin/retort doctor

# ---- 3. the gpu-tagged tests ---------------------------------------------------------------------
tests_jar=$(ls test/retort-*-tests.jar 2>/dev/null | head -n 1)
console=$(ls test/junit-platform-console-standalone-*.jar 2>/dev/null | head -n 1)
if [ -z "$tests_jar" ] || [ -z "$console" ]; then
  skip gpu-tests "the bundle has no test jar or JUnit console launcher"
else
  classpath=$(ls "$tests_jar" lib/*.jar | paste -sd:)
  run gpu-tests 180 "$java" "${jvm_flags[@]}" -jar "$console" execute --disable-banner --disable-ansi-colors --details=tree --fail-if-no-tests \
    --class-path "$classpath" --scan-class-path "$tests_jar" --include-tag gpu \
    --reports-dir "$(mktemp -d)"
  # The launcher passes when every test aborted on its "no GPU" assumption: that is not a pass.
  last=${sections[-1]}
  if [[ "$last" == gpu-tests\|PASS\|* ]] && ! verdict=$(benchmarks/junit-verdict.sh "$out/gpu-tests.log"); then
    IFS='|' read -r _ _ code took _ <<< "$last"
    sections[-1]="gpu-tests|FAIL|$code|$took|$verdict"
    overall=1
  fi
fi

# ---- 4. GPU JMH benchmarks -----------------------------------------------------------------------
# -foe true: a benchmark that fails (at setup, without a usable device) fails the section; JMH alone exits 0.
if [ ! -f benchmarks/benchmarks.jar ]; then
  skip jmh "the bundle has no benchmarks/benchmarks.jar (mvn -Pdist package builds it when Maven can)"
else
  gpu_benchmarks=$("$java" -jar benchmarks/benchmarks.jar -l 2>/dev/null | grep -i -E 'cuda|gpu' | paste -sd'|')
  if [ -z "$gpu_benchmarks" ]; then
    skip jmh "benchmarks.jar has no benchmark whose name says cuda or gpu"
  elif [ "$emulated" = 1 ]; then
    # Small shapes and one iteration: the emulator checks that every benchmark runs, its times are no GPU's. (The
    # JMH lock keeps two measurements off one machine; these are no measurements, so another JMH may run beside.)
    jmh_emulated() {
      echo "# EMULATED CUDA device: timings of the CPU emulator at small shapes (batch 16, classes 1000), not GPU figures"
      "$java" -Djmh.ignoreLock=true -jar benchmarks/benchmarks.jar "$gpu_benchmarks" -foe true -f 1 -wi 0 -i 1 \
        -r 1s -p batch=16 -p classes=1000 -rf json -rff "$out/jmh-emulated.json"
    }
    run jmh 150 bash -c "$(declare -f jmh_emulated); java='$java' gpu_benchmarks='$gpu_benchmarks' out='$out'; jmh_emulated"
  else
    run jmh 150 "$java" -jar benchmarks/benchmarks.jar "$gpu_benchmarks" -foe true -f 1 -wi 2 -i 3 -w 1s -r 1s \
      -rf json -rff "$out/jmh.json"
  fi
fi

# ---- 5. the KD kernel lab ------------------------------------------------------------------------
lab=kernels/lab/kd_loss_lab
if [ "$emulated" = 1 ]; then
  # nvcc's lab binary needs the CUDA runtime, far more of the driver than the emulated device has; the same source
  # compiles with g++ against kernels/emulator (its cuda_runtime.h) instead. Every validation case on 16 rows (the
  # cases' full rows take minutes there), then the benchmark path once, on a small shape, for variant 3 alone.
  build=$(mktemp -d)
  run kd-lab 150 bash -c "echo '# EMULATED CUDA device: the lab built with g++ on the CPU emulator; its timings are not GPU figures' \
    && g++ -std=c++17 -O2 -ffp-contract=off -I kernels/emulator -x c++ '$lab.cu' -o '$build/kd_loss_lab' \
    && '$build/kd_loss_lab' --validate-rows 16 --no-bench \
    && '$build/kd_loss_lab' --no-validate --rows 8 --cols 1000 --reps 1 --variant 3"
elif [ -x "$lab" ]; then
  run kd-lab 90 "$lab"
elif [ -f "$lab.cu" ] && command -v nvcc > /dev/null && command -v nvidia-smi > /dev/null; then
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d '. ')
  build=$(mktemp -d)
  run kd-lab 150 bash -c "nvcc -O3 -lineinfo -Xptxas -v -arch=sm_${arch:-90} -I kernels -o '$build/kd_loss_lab' '$lab.cu' \
    && '$build/kd_loss_lab'"
else
  skip kd-lab "no kernel lab in the bundle (kernels/lab/kd_loss_lab), or no nvcc and GPU to build and run it"
fi

# ---- 6. PyTorch comparisons ----------------------------------------------------------------------
# Each script in benchmarks/pytorch/ that names its GPU arguments in a '# gpu-check: ARGS' line runs with them.
if [ "$emulated" = 1 ]; then
  skip pytorch "PyTorch needs a real GPU; this run is on the emulated CUDA device"
elif ! command -v python3 > /dev/null; then
  skip pytorch "no python3"
elif ! python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' > /dev/null 2>&1; then
  skip pytorch "python3 has no torch with CUDA ($(python3 -c 'import torch; print("torch", torch.__version__, "sees no GPU")' 2>&1 | tail -n 1))"
else
  pytorch_runs() {
    local status=0
    for script in benchmarks/pytorch/*.py; do
      local args
      args=$(sed -n 's/^# gpu-check: //p' "$script" | head -n 1)
      [ -z "$args" ] && continue
      echo "## python3 $script $args"
      # shellcheck disable=SC2086
      PYTHONUNBUFFERED=1 python3 "$script" $args || status=1
      echo
    done
    return $status
  }
  run pytorch 150 bash -c "$(declare -f pytorch_runs); pytorch_runs"
fi

# ---- the report -----------------------------------------------------------------------------------
card=$( (command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1) || true)
{
  if [ "$emulated" = 1 ]; then
    echo "# GPU check on the EMULATED CUDA device — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    echo "**This run used the emulated CUDA device (native/emulated-cuda: a CPU stand-in for the driver, cuBLAS and"
    echo "cuDNN), not a GPU.** It shows that every section runs and that the results are right; its timings are the"
    echo "emulator's at small shapes and are not GPU figures."
    echo
  else
    echo "# GPU check — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
  fi
  echo "- machine: $(hostname), $(uname -srm), $(nproc) CPUs; GPU: ${card:-none found}$([ "$emulated" = 1 ] && echo '; device: EMULATED')"
  echo "- bundle: $(ls lib/retort-*.jar | xargs -n1 basename); Java: $java"
  echo "- total: $((SECONDS - started)) s of a ${budget} s budget"
  echo
  echo "| section | status | exit | seconds | note |"
  echo "|---|---|---|---|---|"
  for s in "${sections[@]}"; do
    IFS='|' read -r name status code took note <<< "$s"
    echo "| $name | $status | $code | $took | $note |"
  done
  for s in "${sections[@]}"; do
    IFS='|' read -r name status code took note <<< "$s"
    echo
    echo "## $name — $status (exit $code, ${took} s)"
    echo
    echo '```'
    # A section's whole log is beside the report; keep the report readable.
    lines=$(wc -l < "$out/$name.log")
    if [ "$lines" -gt 400 ]; then
      head -n 150 "$out/$name.log"
      echo "... ($((lines - 300)) lines cut; all in $name.log) ..."
      tail -n 150 "$out/$name.log"
    else
      cat "$out/$name.log"
    fi
    echo '```'
  done
} > "$out/report.md"
echo "gpu-check: $out/report.md ($((SECONDS - started)) s)" >&2
exit $overall
