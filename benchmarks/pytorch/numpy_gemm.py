#!/usr/bin/env python3
"""Times numpy's float32 GEMM C = A·B at 1024 × 1024 × 1024, the reference figure beside Retort's
GemmBenchmark.gemm1024 in benchmarks/compare-cpu.sh.

numpy hands the product to the BLAS it is linked with. Debian's numpy links the libblas.so.3 alternative, which is
the slow reference BLAS (about 5 GFLOP/s) unless OpenBLAS is installed (`apt-get install libopenblas0-pthread`).
This script refuses to time anything but OpenBLAS: it exits with status 3 and says so.

Usage: /usr/bin/python3 numpy_gemm.py [--seconds 5]
Prints `numpy gemm1024 1024 <ms per GEMM> <GEMMs>`; GFLOP/s = 2147.48 / ms. The BLAS library goes to stderr.
"""
import argparse
import sys
import time

import numpy

SIZE = 1024


def blas_libraries():
    """The BLAS and LAPACK shared objects this process has loaded (numpy's, once it has multiplied)."""
    with open("/proc/self/maps") as maps:
        return sorted({line.split()[-1] for line in maps if "blas" in line or "lapack" in line})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    rng = numpy.random.default_rng(1)
    a = rng.random((SIZE, SIZE), dtype=numpy.float32) - 0.5
    b = rng.random((SIZE, SIZE), dtype=numpy.float32) - 0.5
    a @ b
    libraries = blas_libraries()
    if not any("openblas" in lib for lib in libraries):
        print(f"numpy_gemm: numpy {numpy.__version__} does not use OpenBLAS (loaded: {libraries or 'no BLAS'}); "
              "its GEMM would be the reference BLAS at about 5 GFLOP/s, no fair peer. Install OpenBLAS: "
              "apt-get install libopenblas0-pthread", file=sys.stderr)
        sys.exit(3)
    openblas = [lib for lib in libraries if "libopenblas" in lib] or [lib for lib in libraries if "openblas" in lib]
    print(f"numpy_gemm: numpy {numpy.__version__} on {openblas[0]}", file=sys.stderr)
    warm_end = time.perf_counter() + max(1.0, args.seconds / 3)
    while time.perf_counter() < warm_end:
        a @ b
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        a @ b
        count += 1
    ms = 1000 * (time.perf_counter() - start) / count
    print(f"numpy gemm1024 {SIZE} {ms:.3f} {count}", flush=True)


if __name__ == "__main__":
    main()
