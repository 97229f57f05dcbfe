#!/usr/bin/env bash
# Builds the emulated CUDA device (a CPU stand-in for the NVIDIA driver, cuBLAS and cuDNN) into OUTDIR, laid out
# as on a GPU machine with pip's NVIDIA wheels, so that the real loading code is what finds it:
#
#   OUTDIR/driver/libcuda.so.1                  the driver, with kernels/*.cu compiled in (the loader path)
#   OUTDIR/venv/lib/python3.12/site-packages/nvidia/cu13/lib/   libcublas.so.13, libcublasLt.so.13, libnvrtc.so.13
#   OUTDIR/venv/lib/python3.12/site-packages/nvidia/cudnn/lib/  libcudnn.so.9, libcudnn_engines_precompiled.so.9
#   OUTDIR/kernels/                             emulator images (<module>.fatbin naming its kernels), kernels.properties
#   OUTDIR/engines_check                        shows cuDNN's engines failing without libnvrtc loaded first
#   OUTDIR/env                                  LD_LIBRARY_PATH, VIRTUAL_ENV and RETORT_CUDA_KERNELS to source
#
# Usage: native/emulated-cuda/build.sh OUTDIR. Needs gcc and g++ only; without them it says so and exits 3 (callers
# then skip the emulated-device tests). Incremental: nothing is rebuilt while OUTDIR/env is newer than every input.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kernels="$(cd "$here/../../kernels" && pwd)"
out="${1:?usage: native/emulated-cuda/build.sh OUTDIR}"

for tool in gcc g++; do
  if ! command -v "$tool" > /dev/null 2>&1; then
    echo "emulated-cuda: $tool not found; the emulated CUDA device is not built" >&2
    exit 3
  fi
done
if [ -f "$out/env" ] && [ -z "$(find "$here" "$kernels" -newer "$out/env" -type f | head -n 1)" ]; then
  exit 0
fi

mkdir -p "$out"
out="$(cd "$out" && pwd)"
site="$out/venv/lib/python3.12/site-packages/nvidia"
mkdir -p "$out/driver" "$site/cu13/lib" "$site/cudnn/lib" "$out/kernels" "$out/gen"

# Every kernel of every module, from the sources (the same list the tests' kernel emulator includes).
bash "$kernels/emulator/kernel-list.sh" "$out/gen/kernels.inc"

# Emulator images: a fatbin header (magic, version 1, header size 16, payload size) and the module's kernel names,
# which the emulated cuModuleLoadData reads; KernelImages accepts them as it does nvcc's fatbins.
modules=()
for src in "$kernels"/*.cu; do
  name=$(basename "$src" .cu)
  modules+=("$name")
  payload="retort emulated cuda image: $(bash "$kernels/emulator/kernel-list.sh" --of "$src" | paste -sd' ' -)"
  python_free_header() {
    local n=${#payload}
    printf '\x50\xed\x55\xba\x01\x00\x10\x00'
    for shift in 0 8 16 24 32 40 48 56; do printf "\\x$(printf %02x $(((n >> shift) & 255)))"; done
  }
  { python_free_header; printf '%s' "$payload"; } > "$out/kernels/$name.fatbin"
done
{
  echo "# Written by native/emulated-cuda/build.sh: images for the emulated CUDA device, not for a GPU."
  echo "nvcc=emulated"
  echo "targets=emulated"
  echo "modules=$(IFS=,; echo "${modules[*]}")"
} > "$out/kernels/kernels.properties"

# -ffp-contract=off: no fused multiply-add unless a kernel asks for one, as with nvcc's _rn intrinsics.
g++ -std=c++17 -O1 -g -fPIC -shared -fvisibility=hidden -ffp-contract=off \
  -Wall -Wno-unused-function -Wno-unknown-pragmas \
  -I "$kernels" -I "$kernels/emulator" -I "$out/gen" -I "$here" \
  -Wl,-soname,libcuda.so.1 -o "$out/driver/libcuda.so.1" "$here/driver.cpp" -lpthread

cc=(gcc -std=c11 -O3 -g -fPIC -shared -Wall -Wextra -Werror -I "$here")
driver=(-L "$out/driver" -l:libcuda.so.1)
"${cc[@]}" -Wl,-soname,libcublasLt.so.13 -o "$site/cu13/lib/libcublasLt.so.13" "$here/sublibrary.c" -DNAME=cublasLt
"${cc[@]}" -Wl,-soname,libnvrtc.so.13 -o "$site/cu13/lib/libnvrtc.so.13" "$here/sublibrary.c" -DNAME=nvrtc
# As NVIDIA's: libcublas needs libcublasLt, and cuDNN's engine library needs libcublasLt and libnvrtc, all by
# soname with no search path of their own.
"${cc[@]}" -Wl,-soname,libcublas.so.13 -o "$site/cu13/lib/libcublas.so.13" "$here/cublas.c" \
  -Wl,--no-as-needed -L "$site/cu13/lib" -l:libcublasLt.so.13 -Wl,--as-needed "${driver[@]}" -lm
"${cc[@]}" -Wl,-soname,libcudnn_engines_precompiled.so.9 -o "$site/cudnn/lib/libcudnn_engines_precompiled.so.9" \
  "$here/sublibrary.c" -DNAME=cudnnEngines -Wl,--no-as-needed -L "$site/cu13/lib" -l:libcublasLt.so.13 -l:libnvrtc.so.13
"${cc[@]}" -Wl,-soname,libcudnn.so.9 -o "$site/cudnn/lib/libcudnn.so.9" \
  "$here/cudnn.c" "$here/cudnn_ops.c" "$here/cudnn_batchnorm.c" \
  "${driver[@]}" -ldl -lm

# A check of the dependency above (EmulatedLibrariesTest runs it).
gcc -std=c11 -O1 -Wall -Werror -o "$out/engines_check" "$here/engines_check.c" "${driver[@]}" -ldl

cat > "$out/env" <<EOF
# Source this for a process that should see the emulated CUDA device (written by native/emulated-cuda/build.sh).
export LD_LIBRARY_PATH="$out/driver\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export VIRTUAL_ENV="$out/venv"
export RETORT_CUDA_KERNELS="$out/kernels"
EOF
echo "emulated-cuda: built the emulated CUDA device into $out"
