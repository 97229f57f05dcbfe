#!/usr/bin/env bash
# Builds the JNI bridge to cuBLAS and cuDNN: native/build.sh OUTDIR writes OUTDIR/linux-x86_64/libretort_cuda.so.
#
# Maven runs it in process-classes with OUTDIR = target/classes/dev/retort/backend/cuda/native, so the library is
# packed into the jar. It needs gcc and the JDK's JNI headers, and no CUDA: the bridge binds cuBLAS and cuDNN with
# dlopen at run time. Without gcc, or off linux-x86_64, it warns and exits 0: the build still succeeds and
# NativeBridge.unavailableReason() says the library is missing, as the CUDA backend does without nvcc.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sources=("$here"/bridge_*.c)
out_dir="${1:?usage: native/build.sh OUTDIR}"
platform=linux-x86_64
library="$out_dir/$platform/libretort_cuda.so"

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "native/build.sh: skipped, the bridge is built for $platform only (this is $(uname -s)-$(uname -m))"
  exit 0
fi
if ! command -v gcc >/dev/null 2>&1; then
  echo "native/build.sh: WARNING gcc not found; the cuBLAS/cuDNN bridge is not built and the CUDA backend will be" \
       "unavailable (Debian: apt-get install gcc)"
  exit 0
fi

# Incremental: nothing to do while the library is newer than its sources and this script.
if [ -f "$library" ] && [ -z "$(find "$here" -newer "$library" -type f \( -name '*.[ch]' -o -name build.sh \) \
    -not -path "$here/emulated-cuda/*" | head -n 1)" ]; then
  exit 0
fi

# JNI headers: $JAVA_HOME, else the JDK that owns javac.
java_home="${JAVA_HOME:-}"
if [ -z "$java_home" ] || [ ! -f "$java_home/include/jni.h" ]; then
  if command -v javac >/dev/null 2>&1; then
    java_home="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
  fi
fi
if [ -z "$java_home" ] || [ ! -f "$java_home/include/jni.h" ]; then
  echo "native/build.sh: ERROR no jni.h under \$JAVA_HOME ($java_home) or beside javac: set JAVA_HOME to a JDK" >&2
  exit 1
fi

mkdir -p "$out_dir/$platform"
# -O2: the bridge only forwards calls, but keep it lean; -Werror: warnings are fixed, not silenced;
# -fvisibility=hidden: only the JNI entry points (JNIEXPORT) are exported, so the names the parts share (CB, ptr,
# lookup, ...) cannot interpose with, or be interposed by, other libraries in the JVM.
# Only -ldl: cuBLAS, cuDNN and the driver are bound at run time (on glibc 2.34+ dlopen lives in libc anyway).
gcc -O2 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror \
    -I"$java_home/include" -I"$java_home/include/linux" \
    -o "$library.tmp" "${sources[@]}" -ldl
mv -f "$library.tmp" "$library"
echo "native/build.sh: built $library"
