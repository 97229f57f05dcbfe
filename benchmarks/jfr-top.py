#!/usr/bin/env python3
"""Where a JFR recording's CPU samples went: the hottest methods by self time (top frame) and Retort's methods by
inclusive time (anywhere on the stack), as percentages of all execution samples.

Usage: benchmarks/jfr-top.py RECORDING.jfr [--rows 20]
Record one with JMH: java -jar benchmarks/target/benchmarks.jar '\\.TrainingStepBenchmark\\.' -p model=cnn-teacher -prof jfr
(the profile.jfr lands in a folder named after the benchmark). Needs the JDK's `jfr` tool on PATH.

JIT-compiled loops without safepoint polls report their samples at the loop's exit, so a hot kernel's time can show
on the line after its loop (in a store, a reduction or a bounds check): read the inclusive list for which kernel.
"""
import argparse
import collections
import re
import subprocess
import sys

FRAME = re.compile(r"^\s+([\w.$<>]+)\(.*?line: (\d+)", re.M)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording")
    parser.add_argument("--rows", type=int, default=20)
    args = parser.parse_args()
    try:
        # jfr print shows five frames a stack unless told otherwise; kernels sit deeper than that under the pool.
        text = subprocess.run(["jfr", "print", "--stack-depth", "64", "--events", "jdk.ExecutionSample",
                               args.recording], capture_output=True, text=True, check=True).stdout
    except FileNotFoundError:
        sys.exit("jfr-top: the JDK's jfr tool is not on PATH")
    except subprocess.CalledProcessError as e:
        sys.exit(f"jfr-top: jfr print failed on {args.recording}: {e.stderr.strip()}")
    self_time = collections.Counter()
    inclusive = collections.Counter()
    samples = 0
    for event in text.split("jdk.ExecutionSample")[1:]:
        frames = FRAME.findall(event)
        if not frames:
            continue
        samples += 1
        self_time[f"{frames[0][0]}:{frames[0][1]}"] += 1
        for method in {name for name, _ in frames if name.startswith("dev.retort.")}:
            inclusive[method] += 1
    if samples == 0:
        sys.exit(f"jfr-top: {args.recording} holds no execution samples")
    print(f"{samples} execution samples\n\nself (top frame, line)")
    for name, count in self_time.most_common(args.rows):
        print(f"{100 * count / samples:6.1f} %  {name}")
    print("\ninclusive (Retort methods anywhere on the stack)")
    for name, count in inclusive.most_common(args.rows):
        print(f"{100 * count / samples:6.1f} %  {name}")


if __name__ == "__main__":
    main()
