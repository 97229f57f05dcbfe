#!/usr/bin/env bash
# Checks that the engine jar can be taken alone: a throw-away Maven project (src/it/embedder) depends on
# dev.retort:retort as a CPU-only embedder would, and must resolve only the engine and Jackson (no picocli,
# progressbar, jline, XChart or JCuda), stay under 5 MB of jars, and train and save a network.
#
# Usage: src/it/embedder-check.sh [WORKDIR]   (after mvn -DskipTests package; WORKDIR defaults to a temp folder)
#
# The engine is deployed into a file repository under WORKDIR, never installed into ~/.m2, so other builds on
# this machine keep their own dev.retort:retort; the throw-away project gets its own local repository and reads
# the plugins and Jackson from ~/.m2 (as a file repository) before it asks Maven Central.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$root/pom.xml" | head -n 1)
jar="$root/target/retort-$version.jar"
[ -f "$jar" ] || { echo "embedder-check: $jar is missing; run mvn -DskipTests package first" >&2; exit 2; }

mvn -q -B deploy:deploy-file -Dfile="$jar" -DpomFile="$root/pom.xml" -DrepositoryId=engine \
  -Durl="file://$work/engine-repo"

cat > "$work/settings.xml" <<SETTINGS
<settings>
  <localRepository>$work/m2</localRepository>
  <profiles><profile><id>embed</id>
    <repositories>
      <repository><id>engine</id><url>file://$work/engine-repo</url><snapshots><enabled>true</enabled></snapshots></repository>
      <repository><id>home</id><url>file://$HOME/.m2/repository</url></repository>
    </repositories>
    <pluginRepositories>
      <pluginRepository><id>home</id><url>file://$HOME/.m2/repository</url></pluginRepository>
    </pluginRepositories>
  </profile></profiles>
  <activeProfiles><activeProfile>embed</activeProfile></activeProfiles>
</settings>
SETTINGS

rm -rf "$work/embedder"
cp -r "$root/src/it/embedder" "$work/embedder"
cd "$work/embedder"
mvn_embed=(mvn -q -B -s "$work/settings.xml" -Dretort.version="$version")
"${mvn_embed[@]}" dependency:tree -DoutputFile="$work/tree.txt"
"${mvn_embed[@]}" dependency:build-classpath -Dmdep.outputFile="$work/classpath.txt" -Dmdep.includeScope=runtime
"${mvn_embed[@]}" compile

echo "embedder-check: dependency tree of a CPU-only embedder:"
cat "$work/tree.txt"
bytes=0
for f in $(tr ':' ' ' < "$work/classpath.txt"); do
  bytes=$((bytes + $(stat -c %s "$f")))
done
echo "embedder-check: $(tr ':' ' ' < "$work/classpath.txt" | wc -w) jars (the engine's included), $bytes bytes ($((bytes / 1024)) KiB)"

forbidden=$(grep -E -i 'picocli|progressbar|jline|xchart|jcuda' "$work/tree.txt" || true)
if [ -n "$forbidden" ]; then
  echo "embedder-check: FAIL: an embedder inherits CLI or CUDA dependencies:" >&2
  echo "$forbidden" >&2
  exit 1
fi
if [ "$bytes" -gt $((5 * 1024 * 1024)) ]; then
  echo "embedder-check: FAIL: the dependency tree is over 5 MB" >&2
  exit 1
fi
java --add-modules jdk.incubator.vector -cp "target/classes:$(cat "$work/classpath.txt")" example.Embed
echo "embedder-check: passed"
