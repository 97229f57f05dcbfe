#!/usr/bin/env python3
"""Times one hinton distillation step from cnn-teacher to cnn-student in PyTorch eager, for
benchmarks/gpu-check.sh (Retort's side: CudaTrainingStepBenchmark.distillStep).

One step: the teacher in eval mode under no_grad, the student's forward,
L = α·CE(s, y) + (1 − α)·T²·KL(softmax(t/T) ‖ softmax(s/T)) (batchmean, T = 4, α = 0.1, as CudaTrainingStepBenchmark;
the command line's default T is 2, docs/kd-modes.md, and the step costs the same at any T), backward, SGD with momentum 0.9, and the loss read back (`.item()`), as
Retort's step reads it. The batch stays on the device.

Usage: python3 distill_step.py [--batch 256] [--seconds 5] [--device cpu|cuda]
Prints `pytorch-<device> distill-hinton <batch> <ms per step> <steps>`.
"""
# gpu-check: --device cuda --batch 256 --seconds 5
import argparse
import time

import torch
import torch.nn.functional as F

from train_step import cnn_student, cnn_teacher

TEMPERATURE = 4.0
ALPHA = 0.1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    args = parser.parse_args()
    torch.manual_seed(0)
    device = args.device
    teacher = cnn_teacher().eval().to(device)
    student = cnn_student().train().to(device)
    opt = torch.optim.SGD(student.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(args.batch, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def step():
        with torch.no_grad():
            t = teacher(x)
        s = student(x)
        soft = F.kl_div(F.log_softmax(s / TEMPERATURE, dim=1), F.softmax(t / TEMPERATURE, dim=1),
                        reduction="batchmean")
        loss = ALPHA * F.cross_entropy(s, y) + (1 - ALPHA) * TEMPERATURE ** 2 * soft
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    warm_end = time.perf_counter() + max(2.0, args.seconds / 3)
    while time.perf_counter() < warm_end:
        step()
    sync()
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        step()
        steps += 1
    sync()
    ms = 1000 * (time.perf_counter() - start) / steps
    print(f"pytorch-{device} distill-hinton {args.batch} {ms:.3f} {steps}", flush=True)


if __name__ == "__main__":
    main()
