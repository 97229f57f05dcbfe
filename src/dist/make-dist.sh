#!/usr/bin/env bash
# Assembles target/retort-dist.tar.gz (mvn -Pdist package runs this after the jars are built): the retort
# launcher, the engine and its runtime jars, a jlink'ed Java runtime, the test jar with the JUnit console
# launcher, and benchmarks/gpu-check.sh, so that a GPU machine without Java or Maven can run the checks.
#
# Usage: make-dist.sh BASEDIR TARGET JAVA_HOME VERSION
# JAVA_HOME is the JDK that built the jars: its jlink and jmods make the runtime, so the two always match.
set -euo pipefail
basedir=$1 target=$2 jdk=$3 version=$4
dist=$target/dist/retort
rm -rf "$target/dist" "$target/retort-dist.tar.gz"
mkdir -p "$dist"/{bin,lib,test,benchmarks}

engine=$target/retort-$version.jar
tests=$target/retort-$version-tests.jar
for f in "$engine" "$tests"; do
  [ -f "$f" ] || { echo "make-dist: $f is missing (build with tests compiled: mvn -Pdist package)" >&2; exit 1; }
done
# (grep without -q reads to the end: with -q, unzip could die of SIGPIPE and pipefail would call it a miss.)
if ! unzip -Z1 "$tests" | grep 'Test\.class$' > /dev/null; then
  echo "make-dist: $tests has no test classes (was -Dmaven.test.skip set? use -DskipTests instead)" >&2
  exit 1
fi

# ---- jars ----------------------------------------------------------------------------------------
cp "$engine" "$dist/lib/"
cp "$target"/lib/*.jar "$dist/lib/"
# JCuda's natives jar carries four libraries (24 MB of them the PTX compiler); the driver API is all we
# use, so the bundle gets a jar with libJCudaDriver alone. JCuda extracts it from the class path as before.
natives=$(ls "$dist"/lib/jcuda-natives-*.jar)
slim=$target/dist/natives
mkdir -p "$slim"
(cd "$slim" && unzip -q "$natives" 'lib/libJCudaDriver-*' 'META-INF/MANIFEST.MF')
rm "$natives"
"$jdk/bin/jar" --create --file "${natives%.jar}-driver-only.jar" --manifest "$slim/META-INF/MANIFEST.MF" -C "$slim" lib
rm -rf "$slim"

cp "$tests" "$dist/test/"
cp "$target"/dist-tools/junit-platform-console-standalone-*.jar "$dist/test/"

# ---- launcher, checks, benchmark scripts -----------------------------------------------------------
cp "$basedir/bin/retort" "$dist/bin/"
cp "$basedir/benchmarks/gpu-check.sh" "$basedir/benchmarks/junit-verdict.sh" "$dist/benchmarks/"
mkdir -p "$dist/benchmarks/pytorch"
cp "$basedir"/benchmarks/pytorch/*.py "$dist/benchmarks/pytorch/"
# The JMH benchmarks are a separate Maven project whose shaded jar carries its own copy of the engine: it is
# (re)built against this engine when its copy differs (the engine installed into the local repository first, as
# benchmarks/README.md does by hand), and left out, with a line saying why, when it cannot be.
bench=$basedir/benchmarks/target/benchmarks.jar
engine_classes() {  # "CRC name" of the engine's classes in a jar, sorted
  unzip -v "$1" | awk '$NF ~ /^dev\/retort\/.*\.class$/ && $NF !~ /^dev\/retort\/bench\// { print $7, $NF }' | sort
}
stale() {
  [ ! -f "$bench" ] || [ -n "$(comm -23 <(engine_classes "$engine") <(engine_classes "$bench"))" ]
}
if stale && command -v mvn > /dev/null; then
  echo "make-dist: building benchmarks/ against this engine"
  (mvn -B -q install:install-file -Dfile="$engine" -DpomFile="$basedir/pom.xml" \
    && mvn -B -q -f "$basedir/benchmarks/pom.xml" -DskipTests package) > "$target/dist-benchmarks.log" 2>&1 \
    || echo "make-dist: benchmarks/ did not build (see $target/dist-benchmarks.log)" >&2
fi
if stale; then
  echo "make-dist: no benchmarks.jar in the bundle: none built against this engine" >&2
else
  cp "$bench" "$dist/benchmarks/"
fi
# The kernel sources, whole (the lab, llm.c-style reference, variants, validation and timing, includes the
# mainline kernels); the lab binary is built here when nvcc is, so the GPU machine needs no toolkit.
"$basedir/src/dist/copy-kernels.sh" "$basedir" "$dist"
# (build.sh --lab writes beside the fatbins, which are up to date there, so only the lab is compiled.)
fatbins=$target/classes/dev/retort/backend/cuda/kernels
if [ ! -x "$target/kernels/lab/kd_loss_lab" ] && [ -f "$fatbins/kernels.properties" ] && command -v nvcc > /dev/null; then
  if "$basedir/kernels/build.sh" --lab "$fatbins" "$target/kernels" > /dev/null; then
    mkdir -p "$target/kernels/lab"
    mv "$fatbins/kd_loss_lab" "$target/kernels/lab/"
  else
    echo "make-dist: the kernel lab did not build; the bundle carries its sources only" >&2
  fi
fi
for b in "$target"/kernels/lab/kd_loss_lab "$basedir"/kernels/lab/kd_loss_lab; do
  [ -x "$b" ] && cp "$b" "$dist/kernels/lab/" && break
done
cp "$basedir/src/dist/README.md" "$dist/README.md"

# ---- the Java runtime --------------------------------------------------------------------------
# Modules: what jdeps finds in the jars, plus the ones used by name or reflection that jdeps cannot see.
found=$("$jdk/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 17 --module-path "$dist/lib" \
  "$dist"/lib/*.jar 2>/dev/null | tail -n 1)
for_tests=$("$jdk/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 17 \
  "$dist"/test/junit-platform-console-standalone-*.jar 2>/dev/null | tail -n 1)
# jdk.incubator.vector: the SIMD CPU kernels (loaded by name); java.desktop: XChart's PNG plots;
# jdk.unsupported: sun.misc.Unsafe for libraries that probe for it; java.management: JMH and the JUnit
# launcher's details; jdk.crypto.ec: TLS for dataset downloads; jdk.zipfs: the "jar" file system, through
# which the JUnit launcher scans the test jar (without it, it finds no tests and says so only in a warning).
modules=$(echo "$found,$for_tests,jdk.incubator.vector,java.desktop,jdk.unsupported,java.management,jdk.crypto.ec,jdk.zipfs" \
  | tr ',' '\n' | grep -E '^(java|jdk)\.' | sort -u | paste -sd, -)
echo "make-dist: jlink modules: $modules"
# java.desktop's sound and splash-screen libraries never load in a headless run. (jlink refuses to leave out
# exported packages such as javax.swing, so the classes stay.)
# Compression: jlink's zip (--compress=2) works class by class, and gzip cannot shrink its output further;
# string sharing (--compress=1) leaves the classes for the tarball's one gzip stream, which does better.
# Measured on JDK 17 for lib/modules in the tarball: 22 MB with 2, 16.4 MB with 0, 15.2 MB with 1.
# (JDK 21 and later spell it --compress=zip-0 and warn about 1, which still works.)
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=1 \
  --exclude-files='**/libjsound.so,**/libsplashscreen.so' \
  --output "$dist/runtime" 2>&1 | grep -v 'incubator modules' || true
[ -x "$dist/runtime/bin/java" ] || { echo "make-dist: jlink did not produce runtime/bin/java" >&2; exit 1; }
# libjvm.so's symbol table (not needed to run) is a twentieth of the tarball.
if command -v strip > /dev/null; then
  strip --strip-unneeded "$dist/runtime/lib/server/libjvm.so"
fi

# ---- the tarball -------------------------------------------------------------------------------
tar -C "$target/dist" -cf - retort | gzip -9 > "$target/retort-dist.tar.gz"
size=$(stat -c %s "$target/retort-dist.tar.gz")
echo "make-dist: $target/retort-dist.tar.gz: $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }') MiB)"
limit=$((60 * 1000 * 1000))
if [ "$size" -ge "$limit" ]; then
  echo "make-dist: the bundle is over 60 MB" >&2
  exit 1
fi
