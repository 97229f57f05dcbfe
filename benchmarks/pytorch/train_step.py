#!/usr/bin/env python3
"""Times one training step (forward, cross-entropy, backward, SGD update) of Retort's reference
networks in PyTorch eager, for the side-by-side comparison in benchmarks/compare-cpu.sh.

Usage: /usr/bin/python3 train_step.py [--threads N] [--batch 128] [--seconds 10] [--device cpu|cuda] [model ...]
Prints one line per model: `pytorch <model> <batch> <ms per step> <steps>` (`pytorch-cuda ...` on the GPU).
"""
# gpu-check: --device cuda --batch 256 --seconds 5 cnn-teacher cnn-student
import argparse
import time

import torch
import torch.nn as nn


def cnn_teacher():
    def block(i, o):
        return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]
    return nn.Sequential(*block(1, 32), *block(32, 32), nn.MaxPool2d(2), *block(32, 64), *block(64, 64),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3136, 256), nn.ReLU(), nn.Dropout(0.3),
                         nn.Linear(256, 10))


def cnn_student():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(784, 10))


def mlp_teacher():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 1200), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1200, 1200),
                         nn.ReLU(), nn.Dropout(0.5), nn.Linear(1200, 10))


def mlp_student():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 800), nn.ReLU(), nn.Linear(800, 800), nn.ReLU(),
                         nn.Linear(800, 10))


MODELS = {"cnn-teacher": cnn_teacher, "cnn-student": cnn_student, "mlp-teacher": mlp_teacher,
          "mlp-student": mlp_student}


def time_step(name, batch, seconds, device="cpu"):
    torch.manual_seed(0)
    model = MODELS[name]().train().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    # GPU work is asynchronous: wait for it before reading the clock.
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        # Read the loss back each step, as Retort's step does (a training loop logs it): on the GPU this is the
        # step's one wait for the device.
        return loss.item()

    warm_end = time.perf_counter() + max(2.0, seconds / 3)
    while time.perf_counter() < warm_end:
        step()
    sync()
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    sync()
    elapsed = time.perf_counter() - start
    return 1000 * elapsed / steps, steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("models", nargs="*", default=["mlp-teacher", "cnn-teacher"])
    args = parser.parse_args()
    import os
    torch.set_num_threads(args.threads or os.cpu_count())
    for name in args.models:
        ms, steps = time_step(name, args.batch, args.seconds, args.device)
        tag = "pytorch" if args.device == "cpu" else "pytorch-" + args.device
        print(f"{tag} {name} {args.batch} {ms:.3f} {steps}", flush=True)


if __name__ == "__main__":
    main()
