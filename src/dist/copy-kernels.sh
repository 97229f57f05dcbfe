#!/usr/bin/env bash
# Copies the kernel sources into a bundle whole (make-dist.sh runs it): the lab includes the mainline kernels
# (kd_loss.cu) and their headers, and the emulated CUDA device (RETORT_EMULATED_CUDA=1) compiles every one.
#
# Usage: src/dist/copy-kernels.sh BASEDIR DIST
set -euo pipefail
basedir=$1 dist=$2
mkdir -p "$dist/kernels" "$dist/native"
cp -r "$basedir"/kernels/*.cu "$basedir"/kernels/*.cuh "$basedir/kernels/lab" "$basedir/kernels/emulator" "$dist/kernels/"
cp -r "$basedir/native/emulated-cuda" "$dist/native/"
