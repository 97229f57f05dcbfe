#!/usr/bin/env python3
"""Times one training step (forward, cross-entropy, backward, SGD update) of Retort's reference
networks in PyTorch eager, for the side-by-side comparison in benchmarks/compare-cpu.sh.

Besides the networks' names (one step on cross-entropy each) it takes the two measures of Retort's
StudentStepBenchmark.hinton and EvalForwardBenchmark, as benchmarks/djl times them:
- `cnn-student-hinton`: one hinton step of cnn-student, L = a*CE(s, y) + (1 - a)*T^2*KL(softmax(t/T) || softmax(s/T))
  (batchmean; T = 2, a = 0.1, Retort's defaults in docs/kd-modes.md), against cnn-teacher's logits of the batch
  computed once in eval mode before timing, as Retort caches the teacher's outputs;
- `cnn-teacher-eval`: one eval-mode forward of cnn-teacher under no_grad, batch --eval-batch (500), the logits
  copied to a host array; images/s = 1000 * batch / ms.

Usage: /usr/bin/python3 train_step.py [--threads N] [--batch 128] [--eval-batch 500] [--seconds 10]
       [--device cpu|cuda] [name ...]
Prints one line per name: `pytorch <name> <batch> <ms per step> <steps>` (`pytorch-cuda ...` on the GPU).
"""
# gpu-check: --device cuda --batch 256 --seconds 5 cnn-teacher cnn-student
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# Mode hinton's defaults (docs/kd-modes.md, "Defaults"); the step's work does not depend on them.
TEMPERATURE = 2.0
ALPHA = 0.1


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
MEASURES = [*MODELS, "cnn-student-hinton", "cnn-teacher-eval"]


def training_step(name, batch, device):
    """One step of `name` on cross-entropy: forward, loss, backward, SGD with momentum."""
    model = MODELS[name]().train().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        # Read the loss back each step, as Retort's step does (a training loop logs it): on the GPU this is the
        # step's one wait for the device.
        return loss.item()
    return step


def hinton_step(batch, device):
    """One hinton step of cnn-student against cnn-teacher's logits, cached before timing."""
    x = torch.randn(batch, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    with torch.no_grad():
        t = cnn_teacher().eval().to(device)(x)
    student = cnn_student().train().to(device)
    opt = torch.optim.SGD(student.parameters(), lr=0.01, momentum=0.9)

    def step():
        s = student(x)
        soft = F.kl_div(F.log_softmax(s / TEMPERATURE, dim=1), F.softmax(t / TEMPERATURE, dim=1),
                        reduction="batchmean")
        loss = ALPHA * F.cross_entropy(s, y) + (1 - ALPHA) * TEMPERATURE ** 2 * soft
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def eval_forward(name, batch, device):
    """One eval-mode forward of `name` without gradients, the logits copied to the host."""
    model = MODELS[name]().eval().to(device)
    x = torch.randn(batch, 1, 28, 28, device=device)

    def step():
        with torch.no_grad():
            return model(x).cpu().numpy()
    return step


def time_step(name, batch, seconds, device="cpu"):
    torch.manual_seed(0)
    if name == "cnn-student-hinton":
        step = hinton_step(batch, device)
    elif name.endswith("-eval"):
        step = eval_forward(name[:-len("-eval")], batch, device)
    else:
        step = training_step(name, batch, device)
    # GPU work is asynchronous: wait for it before reading the clock.
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

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
    parser.add_argument("--eval-batch", type=int, default=500, help="batch of the *-eval measures")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("models", nargs="*", default=["mlp-teacher", "cnn-teacher"], metavar="name",
                        help="any of " + ", ".join(MEASURES) + "; any network name + '-eval' for its eval forward")
    args = parser.parse_args()
    for name in args.models:
        if name not in MEASURES and not (name.endswith("-eval") and name[:-len("-eval")] in MODELS):
            parser.error(f"unknown name {name!r}")
    import os
    torch.set_num_threads(args.threads or os.cpu_count())
    for name in args.models:
        batch = args.eval_batch if name.endswith("-eval") else args.batch
        ms, steps = time_step(name, batch, args.seconds, args.device)
        tag = "pytorch" if args.device == "cpu" else "pytorch-" + args.device
        print(f"{tag} {name} {batch} {ms:.3f} {steps}", flush=True)


if __name__ == "__main__":
    main()
