#!/usr/bin/env python3
"""Writes the report of benchmarks/compare-cpu.sh from the figures it collected in its work folder.

Usage: compare_report.py WORK RETORT_CONFIGS REPORT.md

WORK holds peers.txt ("ROUND CONFIG SYSTEM NAME BATCH MS STEPS" per line), machine.txt (key=value), and for each
Retort configuration i: retort-i-steps.json and retort-i-eval.json (JMH), retort-i.kernels and retort-i.flags.
One table per Retort configuration; each row gives every system's figure, Retort's ratio to the best peer, the
target and whether it was met. The targets: GEMM at least numpy's; each training step at most 0.9 of the best peer's
time, the cnn-student hinton step at most 0.5; eval forward at least the best peer's images/s and at least 3 times
Retort's own training throughput of the same network. Peers keep their best figure over configurations and rounds.
"""
import datetime
import json
import math
import sys
from pathlib import Path

GEMM_GFLOP = 2 * 1024 ** 3 / 1e9
STEPS = ["mlp-teacher", "cnn-teacher", "cnn-student", "cnn-student-hinton"]
STEP_LABELS = {"mlp-teacher": "mlp-teacher step, ms", "cnn-teacher": "cnn-teacher step, ms",
               "cnn-student": "cnn-student step (cross-entropy), ms",
               "cnn-student-hinton": "cnn-student hinton step, cached teacher logits, ms"}
# Retort's ratio to the best peer must stay at or under this for each step.
STEP_TARGETS = {"mlp-teacher": 0.9, "cnn-teacher": 0.9, "cnn-student": 0.9, "cnn-student-hinton": 0.5}
PEERS = ["djl", "pytorch"]
SYSTEM_NAMES = {"djl": "DJL", "pytorch": "PyTorch", "numpy": "numpy"}
# JMH benchmark (and its model parameter, where it has one) → the measure's name in peers.txt.
JMH_NAMES = {("GemmBenchmark.gemm1024", None): "gemm1024",
             ("TrainingStepBenchmark.step", "mlp-teacher"): "mlp-teacher",
             ("TrainingStepBenchmark.step", "cnn-teacher"): "cnn-teacher",
             ("StudentStepBenchmark.crossEntropy", None): "cnn-student",
             ("StudentStepBenchmark.hinton", None): "cnn-student-hinton",
             ("EvalForwardBenchmark.forward", "cnn-teacher"): "cnn-teacher-eval"}


def read_peers(path):
    """{(system, name): [(round, config, ms, batch)]} from peers.txt."""
    runs = {}
    for line in path.read_text().splitlines():
        round_, config, system, name, batch, ms, _steps = line.split()
        runs.setdefault((system, name), []).append((round_, config, float(ms), int(batch)))
    return runs


def read_retort(work, index):
    """{name: (ms, error, batch)} from one configuration's JMH results."""
    out = {}
    for part in ("steps", "eval"):
        path = work / f"retort-{index}-{part}.json"
        if not path.exists() or not path.read_text().strip():
            continue
        for r in json.loads(path.read_text()):
            benchmark = r["benchmark"].rsplit(".", 2)
            key = (benchmark[-2] + "." + benchmark[-1], r["params"].get("model"))
            if key in JMH_NAMES:
                metric = r["primaryMetric"]
                batch = int(r["params"].get("batch", 1024))
                out[JMH_NAMES[key]] = (float(metric["score"]), float(metric["scoreError"]), batch)
    return out


def best(runs, system, name):
    """The peer's best (lowest) ms over configurations and rounds, with its configuration and batch."""
    found = runs.get((system, name))
    if not found:
        return None
    _round, config, ms, batch = min(found, key=lambda r: r[2])
    return ms, config, batch


def images_per_second(ms, batch):
    return 1000 * batch / ms


def verdict(ratio, target, at_least):
    if ratio is None:
        return "no figure"
    return "met" if (ratio >= target if at_least else ratio <= target) else "missed"


def fmt(x, digits=1):
    return "n/a" if x is None else f"{x:,.{digits}f}"


def with_error(value, error):
    """"12.3 ± 0.4", or the value alone where JMH gave no error (a single measured iteration)."""
    if value is None:
        return "n/a"
    return fmt(value) if error is None or math.isnan(error) else f"{fmt(value)} ± {fmt(error)}"


def table(retort, runs):
    """The rows of one configuration's table."""
    rows = ["| measure | Retort | DJL (libtorch 2.7.1) | PyTorch 1.13 | numpy (OpenBLAS) | Retort / best peer "
            "| target | verdict |", "|---|---|---|---|---|---|---|---|"]

    def peer_cell(system, name, convert=None):
        b = best(runs, system, name)
        if b is None:
            return "", None
        ms, config, batch = b
        value = convert(ms, batch) if convert else ms
        return f"{fmt(value)} ({config})", value

    # GEMM, GFLOP/s: higher is better; the peer is numpy.
    r = retort.get("gemm1024")
    r_gflops = GEMM_GFLOP * 1000 / r[0] if r else None
    r_cell = with_error(r_gflops, r_gflops * r[1] / r[0]) if r else "n/a"
    n_cell, n_gflops = peer_cell("numpy", "gemm1024", lambda ms, _b: GEMM_GFLOP * 1000 / ms)
    ratio = r_gflops / n_gflops if r_gflops and n_gflops else None
    rows.append(f"| GEMM 1024³, GFLOP/s | {r_cell} | | | {n_cell} | {fmt(ratio, 2)}× | ≥ 1.0× numpy "
                f"| {verdict(ratio, 1.0, True)} |")

    # Training steps, ms: lower is better; the peers are DJL and PyTorch.
    for name in STEPS:
        r = retort.get(name)
        cells = {p: peer_cell(p, name) for p in PEERS}
        peer_values = [v for _c, v in cells.values() if v is not None]
        ratio = r[0] / min(peer_values) if r and peer_values else None
        target = STEP_TARGETS[name]
        rows.append(f"| {STEP_LABELS[name]} | {with_error(r[0], r[1]) if r else 'n/a'} "
                    f"| {cells['djl'][0]} | {cells['pytorch'][0]} | | {fmt(ratio, 2)}× | ≤ {target}× best peer "
                    f"| {verdict(ratio, target, False)} |")

    # Eval forward, images/s: higher is better.
    r = retort.get("cnn-teacher-eval")
    r_eval = images_per_second(r[0], r[2]) if r else None
    cells = {p: peer_cell(p, "cnn-teacher-eval", images_per_second) for p in PEERS}
    peer_values = [v for _c, v in cells.values() if v is not None]
    ratio = r_eval / max(peer_values) if r_eval and peer_values else None
    batch = r[2] if r else 500
    rows.append(f"| cnn-teacher eval forward (batch {batch}), images/s | {fmt(r_eval)} | {cells['djl'][0]} "
                f"| {cells['pytorch'][0]} | | {fmt(ratio, 2)}× | ≥ 1.0× best peer | {verdict(ratio, 1.0, True)} |")

    # Training throughput of cnn-teacher, images/s, and each system's eval ÷ its own training throughput.
    r = retort.get("cnn-teacher")
    r_train = images_per_second(r[0], r[2]) if r else None
    train_cells = {p: peer_cell(p, "cnn-teacher", images_per_second) for p in PEERS}
    rows.append(f"| cnn-teacher training throughput (batch 128), images/s | {fmt(r_train)} "
                f"| {train_cells['djl'][0]} | {train_cells['pytorch'][0]} | | | | |")
    own = r_eval / r_train if r_eval and r_train else None
    peer_own = {p: (cells[p][1] / train_cells[p][1] if cells[p][1] and train_cells[p][1] else None) for p in PEERS}
    rows.append(f"| eval ÷ own training throughput, cnn-teacher | {fmt(own, 2)}× | {fmt(peer_own['djl'], 2)}× "
                f"| {fmt(peer_own['pytorch'], 2)}× | | {fmt(own, 2)}× (Retort's own) | ≥ 3× | "
                f"{verdict(own, 3.0, True)} |")
    return rows


def details(runs):
    """Every peer figure, configuration by configuration, before / after Retort."""
    names = ["gemm1024", *STEPS, "cnn-teacher-eval"]
    rows = ["| system | configuration | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    configs = []
    for (system, _name), found in runs.items():
        for _round, config, _ms, _batch in found:
            if (system, config) not in configs:
                configs.append((system, config))
    for system, config in configs:
        cells = []
        for name in names:
            figures = [f"{ms:.1f}" for _r, c, ms, _b in runs.get((system, name), []) if c == config]
            cells.append(" / ".join(figures))
        rows.append(f"| {SYSTEM_NAMES.get(system, system)} | {config} | " + " | ".join(cells) + " |")
    return rows


def main():
    work, configs, report = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    machine = dict(line.split("=", 1) for line in (work / "machine.txt").read_text().splitlines())
    runs = read_peers(work / "peers.txt")
    lines = [f"# CPU: Retort beside DJL (libtorch 2.7.1), PyTorch 1.13 and OpenBLAS ({datetime.date.today()})", ""]
    if machine["rehearsal"] == "1":
        lines += ["**Rehearsal**: short runs that check the script end to end; these figures are not results.", ""]
    lines += [f"Machine: {machine['cpu']}, family {machine['family']} model {machine['model']} "
              f"({machine['isa']}), {machine['cores']} cores; {machine['java']}.",
              f"Peers: {machine['djl']}; PyTorch {machine['torch']} (Debian); numpy {machine['numpy']}.",
              "",
              "One sitting: the peers ran before and after Retort, each under the configurations listed at the end, "
              f"{machine['seconds']} s per measure after a warm-up; each peer's cell is its best figure, with its "
              "configuration. Retort: JMH average ± 99.9% error "
              f"({'JMH options ' + machine['jmh_args'] if machine['jmh_args'] else 'each benchmark’s own iterations'})"
              ", its threads pinned to the core count. Steps: forward, loss, backward, SGD with momentum 0.9, "
              "batch 128; the hinton step is T = 2, α = 0.1 against teacher logits computed once. Eval forward: "
              "eval mode, no gradients, the logits read back. Ratios: Retort's time over the best peer's for steps, "
              "Retort's rate over the best peer's for GEMM and eval.", ""]
    for index in range(configs):
        flags = (work / f"retort-{index}.flags").read_text().strip()
        kernels = (work / f"retort-{index}.kernels").read_text().strip()
        title = f"Retort with `{flags}`" if flags else "Retort as the JVM configures it"
        lines += [f"## {title}: {kernels}", ""]
        lines += table(read_retort(work, index), runs)
        jmh = work / f"retort-{index}.jmh.txt"
        vm_options = sorted({line.split(":", 1)[1].strip() for line in jmh.read_text().splitlines()
                             if line.startswith("# VM options:")}) if jmh.exists() else []
        lines += ["", "JMH forks: " + "; ".join(f"`{o}`" for o in vm_options) + "."] if vm_options else []
        lines.append("")
    lines += ["## Every peer figure (ms per step or per GEMM; before / after Retort)", ""]
    lines += details(runs)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
