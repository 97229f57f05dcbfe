#!/usr/bin/env bash
# Compiles every kernels/*.cu into OUTDIR/<name>.fatbin (SASS for the supported GPUs plus PTX for newer
# ones), keeps each file's `ptxas -v` report in LOGDIR/ptxas-<name>.log, fails if a KD kernel spills, and
# writes OUTDIR/kernels.properties naming what was built. Maven runs it in generate-resources under -Pcuda
# (mvn -Pcuda package), with RETORT_KERNELS_REQUIRED=1: then a missing nvcc fails the build, so that a jar
# built for CUDA never lacks its kernels silently.
#
#   kernels/build.sh OUTDIR LOGDIR          the fatbins (skips any fatbin newer than its inputs)
#   kernels/build.sh --lab OUTDIR LOGDIR    also the KD lab program, OUTDIR/kd_loss_lab (for gpu-check.sh)
#
# Environment: NVCC (the compiler; default: nvcc on PATH, then $CUDA_HOME/bin, /usr/local/cuda/bin),
# RETORT_NVCC_THREADS (parallel compilation of the targets inside nvcc; default 0 = every core),
# RETORT_CUDA_ARCHS (override the SASS targets, e.g. "90" while iterating), RETORT_KERNELS_REQUIRED=1 (no
# nvcc is an error, not a skip).
set -euo pipefail

# Without nvcc: a line and exit 0 when the kernels are optional, an error when they were asked for.
no_nvcc() {
  if [ "${RETORT_KERNELS_REQUIRED:-0}" = 1 ]; then
    echo "retort kernels: $1; the CUDA kernels were asked for (-Pcuda) and cannot be built" >&2
    exit 1
  fi
  echo "retort kernels: $1; the CUDA kernels are not built and the CUDA backend will be unavailable"
  exit 0
}

lab=0
if [ "${1:-}" = "--lab" ]; then
  lab=1
  shift
fi
if [ $# -ne 2 ]; then
  echo "usage: kernels/build.sh [--lab] OUTDIR LOGDIR" >&2
  exit 2
fi
out=$1
logs=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

nvcc=${NVCC:-}
if [ -n "$nvcc" ] && ! [ -x "$nvcc" ] && ! command -v "$nvcc" >/dev/null 2>&1; then
  no_nvcc "NVCC=$nvcc is not an executable"
fi
if [ -z "$nvcc" ]; then
  for candidate in "$(command -v nvcc || true)" "${CUDA_HOME:-/nonexistent}/bin/nvcc" /usr/local/cuda/bin/nvcc; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      nvcc=$candidate
      break
    fi
  done
fi
if [ -z "$nvcc" ]; then
  no_nvcc "nvcc not found (install the CUDA toolkit or set NVCC)"
fi

mkdir -p "$out" "$logs"

# SASS for Ampere (sm_80 A100, sm_86 RTX 30xx), Ada (sm_89), Hopper (sm_90), Blackwell (sm_100 B200,
# sm_120 RTX 50xx); a cubin also runs on later minor versions of its major (sm_80 on sm_87, sm_100 on
# sm_103). PTX of the newest target lets the driver JIT for GPUs newer than all of these. CUDA 13.0 accepts
# every one of these targets (nvcc --list-gpu-code); CUDA 12.x before 12.8 lacks sm_100/sm_120, so they
# are dropped, with a line saying so, when this nvcc does not list them.
archs=${RETORT_CUDA_ARCHS:-"80 86 89 90 100 120"}
supported=" $("$nvcc" --list-gpu-code 2>/dev/null | tr '\n' ' ') "
gencode=()
targets=()
newest=""
for a in $archs; do
  if [[ "$supported" != *" sm_$a "* ]]; then
    echo "retort kernels: $("$nvcc" --version | tail -1 | sed 's/^Build //') does not support sm_$a; dropped"
    continue
  fi
  gencode+=("-gencode=arch=compute_$a,code=sm_$a")
  targets+=("sm_$a")
  newest=$a
done
if [ -z "$newest" ]; then
  echo "retort kernels: none of the targets ($archs) is supported by $nvcc" >&2
  exit 1
fi
gencode+=("-gencode=arch=compute_$newest,code=compute_$newest")
targets+=("compute_$newest")

flags=(-fatbin -O3 -std=c++17 -Xptxas -v --threads "${RETORT_NVCC_THREADS:-0}")
nvcc_version=$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')

# A fatbin is stale when any input is newer: its source, a shared header, or this script (targets, flags).
newest_input() {
  ls -t "$1" "$here"/*.cuh "$here/build.sh" | head -1
}

start=$(date +%s)
built=0
for src in "$here"/*.cu; do
  name=$(basename "$src" .cu)
  fatbin="$out/$name.fatbin"
  log="$logs/ptxas-$name.log"
  if [ -f "$fatbin" ] && [ -f "$log" ] && [ "$fatbin" -nt "$(newest_input "$src")" ]; then
    continue
  fi
  if ! "$nvcc" "${flags[@]}" "${gencode[@]}" -o "$fatbin" "$src" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$fatbin"
    echo "retort kernels: $name.cu failed to compile (log: $log)" >&2
    exit 1
  fi
  built=$((built + 1))
done

# The KD kernels must not spill: a spill turns the memory-bound kernel's register traffic into DRAM
# traffic. ptxas prints "N bytes spill stores" per function and target.
spills=$(grep -o "[0-9]* bytes spill \(stores\|loads\)" "$logs/ptxas-kd_loss.log" | awk '$1 != 0' || true)
stack=$(grep -o "[0-9]* bytes stack frame" "$logs/ptxas-kd_loss.log" | awk '$1 != 0' || true)
if [ -n "$spills" ]; then
  echo "retort kernels: a KD kernel spills registers (see $logs/ptxas-kd_loss.log):" >&2
  echo "$spills" >&2
  rm -f "$out/kd_loss.fatbin"
  exit 1
fi
if [ -n "$stack" ]; then
  echo "retort kernels: warning: a KD kernel uses a stack frame (see $logs/ptxas-kd_loss.log)" >&2
fi

{
  echo "# Written by kernels/build.sh: what the fatbins in this folder contain."
  echo "nvcc=$nvcc_version"
  echo "targets=$(IFS=,; echo "${targets[*]}")"
  echo "modules=$(cd "$here" && ls *.cu | sed 's/\.cu$//' | paste -sd, -)"
} >"$out/kernels.properties"

# One line: registers of each KD kernel on sm_90 (or the newest target built).
summary_arch=sm_90
[[ " ${targets[*]} " == *" sm_90 "* ]] || summary_arch=sm_$newest
registers=$(awk -v arch="$summary_arch" '
  /Compiling entry function/ { fn = $7; gsub(/\047/, "", fn); ar = $9; gsub(/\047/, "", ar) }
  /Used [0-9]+ registers/ && ar == arch { for (i = 1; i <= NF; i++) if ($i == "Used") printf "%s %s, ", fn, $(i + 1) }
' "$logs/ptxas-kd_loss.log" | sed 's/, $//')
echo "retort kernels: $built of $(ls "$here"/*.cu | wc -l) rebuilt in $(( $(date +%s) - start )) s for $(IFS=,; echo "${targets[*]}") (nvcc $nvcc_version); KD registers on $summary_arch: $registers; no spills"

if [ "$lab" = 1 ]; then
  # The same targets as the fatbins, so the binary runs on the GPU machine without a CUDA toolkit there
  # (the CUDA runtime is linked statically; only the driver's libcuda.so.1 is needed).
  echo "retort kernels: building the KD lab into $out/kd_loss_lab"
  "$nvcc" -O3 -std=c++17 -lineinfo --threads "${RETORT_NVCC_THREADS:-0}" "${gencode[@]}" \
    -o "$out/kd_loss_lab" "$here/lab/kd_loss_lab.cu"
fi
