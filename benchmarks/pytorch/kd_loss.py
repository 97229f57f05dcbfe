#!/usr/bin/env python3
"""Times PyTorch eager's KD loss and its backward beside a device-to-device copy, at the size of the CUDA
issue's kernel target, for benchmarks/gpu-check.sh (Retort's side: CudaDistillationBenchmark).

The loss is kl_div(log_softmax(s/T), softmax(t/T), 'batchmean')·T² with T = 4, on B × C float32 logits;
one timed call is the forward and the backward to s (the gradient Retort's fused kernel writes). The copy
moves B·C floats (t.copy_(s)). Bandwidths use the bytes of benchmarks/README.md: 3·B·C·4 for the loss (read s
and t, write the gradient), 2·B·C·4 for the copy.

Usage: python3 kd_loss.py [--batch 65536] [--classes 1000] [--device cuda] [--seconds 3]
Prints `pytorch-<device> kd-loss <B> <C> <ms> <GB/s>` and `pytorch-<device> copy <B> <C> <ms> <GB/s>`.
"""
# gpu-check: --device cuda --batch 65536 --classes 1000 --seconds 3
import argparse
import time

import torch
import torch.nn.functional as F

TEMPERATURE = 4.0


def timed(fn, seconds, sync):
    """Mean milliseconds per call of fn, after a warm-up, waiting for the device before reading the clock."""
    warm_end = time.perf_counter() + max(0.5, seconds / 3)
    while time.perf_counter() < warm_end:
        fn()
    sync()
    calls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        calls += 1
    sync()
    return 1000 * (time.perf_counter() - start) / calls


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=65536)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    parser.add_argument("--seconds", type=float, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    b, c, device = args.batch, args.classes, args.device
    s = (3 * torch.randn(b, c, device=device)).requires_grad_()
    t = 3 * torch.randn(b, c, device=device)
    copy_target = torch.empty_like(t)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def kd():
        s.grad = None
        loss = F.kl_div(F.log_softmax(s / TEMPERATURE, dim=1), F.softmax(t / TEMPERATURE, dim=1),
                        reduction="batchmean") * TEMPERATURE ** 2
        loss.backward()

    def copy():
        copy_target.copy_(s.detach())

    elements = b * c
    for name, fn, moved in (("kd-loss", kd, 3 * 4 * elements), ("copy", copy, 2 * 4 * elements)):
        ms = timed(fn, args.seconds, sync)
        print(f"pytorch-{device} {name} {b} {c} {ms:.4f} {moved / ms / 1e6:.1f}", flush=True)


if __name__ == "__main__":
    main()
