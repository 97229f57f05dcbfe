#!/usr/bin/env python3
"""Retort's student schedule replayed in PyTorch from the same teacher weights, to check Retort's distillation
results against an independent implementation (docs/kd-modes.md gives the math both follow).

It loads Fashion-MNIST from the IDX files, the teacher from a Retort run's model.safetensors (PyTorch state-dict
names), trains the student alone and in each mode with Retort's schedule -- SGD with Nesterov momentum 0.9,
weight decay 5e-4, linear warm-up then cosine decay per step, batch 128 without the last partial batch -- with the
teacher's logits (and hybrid's paired feature) computed once in eval mode, and prints one table row per run:
mode, T, seed, test accuracy. With --labelled N the baseline trains on N labelled images (an even share per
class) repeated to the training set's size per epoch, and the modes use every image as transfer set with the label
term only where a label was kept, averaged over the whole batch, as Retort does. Initialisation, shuffling and the
labelled subset come from PyTorch's and numpy's generators, so single runs differ from Retort's by seed noise only.

Usage: python3 distill_replica.py --teacher-weights runs/t/model.safetensors [--student cnn-student]
           [--modes baseline,temperature,hinton,hybrid] [--temperature 2] [--alpha 0.1] [--seeds 1,2,3]
           [--epochs 5] [--labelled 1000] [--pairs STUDENT=TEACHER] [--data /usr/share/datasets/fashion-mnist]
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN, STD = 0.2860, 0.3530  # Retort's FashionMnist normalisation


def read_idx(folder, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.exists(path):
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rb") as f:
                data = f.read()
            dims = data[3]
            shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)
    sys.exit(f"distill_replica: {name} not found in {folder}")


def fashion_mnist(folder, split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(folder, f"{prefix}-images-idx3-ubyte").astype(np.float32) / 255.0
    y = read_idx(folder, f"{prefix}-labels-idx1-ubyte").astype(np.int64)
    return torch.from_numpy((x - MEAN) / STD).unsqueeze(1), torch.from_numpy(y)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}[entry["dtype"]]
        out[name] = torch.from_numpy(np.frombuffer(body[begin:end], dtype=dtype).reshape(entry["shape"]).copy())
    return out


def network(name):
    """Retort's reference networks (docs/design.md), with the same state-dict names."""
    if name == "cnn-teacher":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, 10))
    if name == "cnn-student":
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(784, 10))
    if name == "mlp-student":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 800), nn.ReLU(), nn.Linear(800, 800), nn.ReLU(),
                             nn.Linear(800, 10))
    sys.exit(f"distill_replica: unknown network {name}")


DEFAULT_PAIRS = {"cnn-student": "5=13"}  # the last feature map before each network's Flatten


def capture(net, layer, store):
    return net[int(layer)].register_forward_hook(lambda m, i, o: store.__setitem__(layer, o))


@torch.no_grad()
def teacher_outputs(teacher, x, layer):
    teacher.eval()
    logits, features, store = [], [], {}
    hook = capture(teacher, layer, store) if layer else None
    for i in range(0, len(x), 500):
        logits.append(teacher(x[i:i + 500]))
        if layer:
            features.append(store[layer])
    if hook:
        hook.remove()
    return torch.cat(logits), (torch.cat(features) if layer else None)


@torch.no_grad()
def accuracy(net, x, y):
    net.eval()
    correct = sum((net(x[i:i + 500]).argmax(1) == y[i:i + 500]).sum().item() for i in range(0, len(x), 500))
    net.train()
    return correct / len(x)


def keep_labels(y, count, seed, classes=10):
    """Per-class even share of `count` labels, seeded; -1 for the others (Retort's Dataset.keepLabels rule)."""
    rng = np.random.default_rng(seed)
    pools = [rng.permutation(np.flatnonzero(y.numpy() == c)) for c in range(classes)]
    quota = [0] * classes
    given, c = 0, 0
    while given < count:
        if quota[c] < len(pools[c]):
            quota[c] += 1
            given += 1
        c = (c + 1) % classes
    kept = torch.full_like(y, -1)
    for c in range(classes):
        idx = torch.from_numpy(pools[c][:quota[c]])
        kept[idx] = y[idx]
    return kept


def run(mode, args, seed, data, cache):
    x_train, y_train, x_test, y_test = data
    torch.manual_seed(seed)
    student = network(args.student)
    labels = y_train
    x = x_train
    if args.labelled:
        labels = keep_labels(y_train, args.labelled, seed)
        if mode == "baseline":  # the labelled images alone, repeated to the training set's size
            keep = torch.nonzero(labels >= 0).squeeze(1)
            order = keep[torch.arange(len(x_train)) % len(keep)]
            x, labels = x_train[order], labels[order]
    regressor = None
    s_layer, t_layer = (args.pairs or DEFAULT_PAIRS.get(args.student, "")).split("=") if mode == "hybrid" else ("", "")
    t_logits, t_features = cache(t_layer)
    store = {}
    if mode == "hybrid":
        capture(student, s_layer, store)
        with torch.no_grad():
            student.eval()
            student(x[:2])
            student.train()
        s_shape, t_shape = store[s_layer].shape[1:], t_features.shape[1:]
        regressor = (nn.Conv2d(s_shape[0], t_shape[0], 1) if len(s_shape) == 3 else nn.Linear(s_shape[0], t_shape[0]))
    params = list(student.parameters()) + (list(regressor.parameters()) if regressor else [])
    opt = torch.optim.SGD(params, lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps_per_epoch = len(x) // args.batch
    total = args.epochs * steps_per_epoch
    warmup = min(total - 1, round(0.2 * steps_per_epoch))
    T = args.temperature
    step = 0
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(args.epochs):
        order = torch.randperm(len(x), generator=generator)
        for b in range(steps_per_epoch):
            lr = args.lr * (step + 1) / warmup if step < warmup else \
                args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / (total - warmup))))
            for g in opt.param_groups:
                g["lr"] = lr
            idx = order[b * args.batch:(b + 1) * args.batch]
            s = student(x[idx])
            y = labels[idx]
            has = y >= 0
            # Label cross-entropy summed over the labelled rows, divided by the whole batch.
            ce = F.cross_entropy(s[has], y[has], reduction="sum") / len(idx) if has.any() else s.sum() * 0
            if mode == "baseline":
                loss = ce
            else:
                t = t_logits[idx]
                kl = F.kl_div(F.log_softmax(s / T, 1), F.log_softmax(t / T, 1), reduction="batchmean",
                              log_target=True)
                if mode == "temperature":
                    loss = T * T * kl
                elif mode == "hinton":
                    loss = args.alpha * ce + (1 - args.alpha) * T * T * kl
                else:
                    feature = F.mse_loss(regressor(store[s_layer]), t_features[idx])
                    loss = args.alpha * ce + args.beta * T * T * kl + args.gamma * feature
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
    return accuracy(student, x_test, y_test)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--teacher-weights", required=True)
    p.add_argument("--student", default="cnn-student")
    p.add_argument("--modes", default="baseline,temperature,hinton,hybrid")
    p.add_argument("--temperature", type=float, default=2)
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--beta", type=float, default=0.9)
    p.add_argument("--gamma", type=float, default=1)
    p.add_argument("--seeds", default="1")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--labelled", type=int, default=0)
    p.add_argument("--pairs", default="")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--data", default=os.environ.get("RETORT_DATA", "/usr/share/datasets/fashion-mnist"))
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    x_train, y_train = fashion_mnist(args.data, "train")
    x_test, y_test = fashion_mnist(args.data, "test")
    teacher = network("cnn-teacher")
    teacher.load_state_dict(read_safetensors(args.teacher_weights))
    print(f"teacher test accuracy {100 * accuracy(teacher, x_test, y_test):.2f} %", flush=True)
    outputs = {}

    def cache(layer):  # the teacher's outputs, once per feature layer
        if layer not in outputs:
            outputs[layer] = teacher_outputs(teacher, x_train, layer)
        return outputs[layer]

    print("| mode | T | α | seed | labelled | test accuracy (%) |")
    print("|---|---|---|---|---|---|")
    results = {}
    for mode in args.modes.split(","):
        for seed in [int(s) for s in args.seeds.split(",")]:
            a = run(mode, args, seed, (x_train, y_train, x_test, y_test), cache)
            results.setdefault(mode, []).append(a)
            print(f"| {mode} | {args.temperature if mode != 'baseline' else ''} | "
                  f"{args.alpha if mode in ('hinton', 'hybrid') else ''} | {seed} | {args.labelled or 'all'} | "
                  f"{100 * a:.2f} |", flush=True)
    print()
    for mode, values in results.items():
        v = 100 * np.array(values)
        std = v.std(ddof=1) if len(v) > 1 else 0.0
        print(f"{mode}: mean {v.mean():.2f} ± {std:.2f} % over {len(v)} seed(s)")


if __name__ == "__main__":
    main()
