#!/usr/bin/python3
"""Golden test vectors for Retort, computed by PyTorch in float64.

What this is for: the Java tests in src/test/java read the JSON fixtures written here
(src/test/resources/golden/*.json, through dev.retort.testing.Golden) and compare Retort's
layers and losses -- forward values and gradients -- against PyTorch as the reference.

Re-run it from the repository root with Debian's python3-torch (PyTorch 1.13, CPU):

    /usr/bin/python3 src/test/python/make_golden.py

It is deterministic: fixed seeds, one thread, float64 throughout, so two runs write
byte-identical files. Inputs are drawn in float64 and rounded to float32
(`randn(...).float().double()`), so a float32 engine reads exactly the same inputs; outputs and
gradients are float64. Gradients use a fixed random upstream gradient `grad_output` (stored):
the backward pass is of `(out * grad_output).sum()`; scalar losses use `loss.backward()`.

Format of every file:
    {"generator": "...", "torch": "<version>", "cases": [
        {"name": "...", "params": {...},
         "tensors": {"<name>": {"shape": [...], "data": [flat row-major float64 ...]}}}, ...]}

It also writes src/test/resources/interop/: a seeded cnn-student and a tiny BatchNorm network as
safetensors (written by hand: struct + json), their inputs and PyTorch's logits as .npy.

The script also checks the analytic gradient formulas of docs/kd-modes.md (modes `temperature`
and `hinton`, and the logit gradient of mode `hybrid`) against autograd and fails loudly when they
disagree by 1e-10 or more.
"""

import json
import os
import struct
import sys

import torch
import torch.nn.functional as F

GENERATOR = "src/test/python/make_golden.py"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "golden")
MAX_FILE_BYTES = 300_000
INTEROP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "interop")

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
torch.set_default_dtype(torch.float64)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

class Rng:
    """One seeded generator per case, so adding or reordering cases never changes the others."""

    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def randn(self, *shape, scale=1.0, shift=0.0):
        """float64 normal draws, scaled and shifted, then rounded to float32."""
        z = torch.randn(*shape, generator=self.g, dtype=torch.float64)
        return (z * scale + shift).float().double()

    def uniform(self, lo, hi, *shape):
        u = torch.rand(*shape, generator=self.g, dtype=torch.float64)
        return (lo + (hi - lo) * u).float().double()

    def randint(self, high, *shape):
        return torch.randint(0, high, shape, generator=self.g)


def leaf(t):
    return t.detach().clone().requires_grad_(True)


def tensor_entry(t):
    t = t.detach()
    if t.dtype != torch.float64:
        t = t.double()
    data = [float(v) for v in t.reshape(-1).tolist()]
    for v in data:
        if v != v or v in (float("inf"), float("-inf")):
            raise AssertionError("non-finite value in a golden tensor")
    return {"shape": list(t.shape), "data": data}


# Tensors a float32 engine reads as inputs: they must be exactly representable in float32.
INPUT_NAMES = {"input", "weight", "bias", "running_mean", "running_var", "grad_output", "logits",
               "target", "student", "teacher"}


def case(name, params, **tensors):
    for k, v in tensors.items():
        if k in INPUT_NAMES:
            v = v.detach().double()
            if not torch.equal(v.float().double(), v):
                raise AssertionError(f"{name}: input '{k}' is not exactly representable in float32")
    return {"name": name, "params": params,
            "tensors": {k: tensor_entry(v) for k, v in tensors.items()}}


def fmt(v):
    """JSON text of a value; floats with repr precision (shortest round-trip)."""
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, float):
        r = repr(v)
        if r in ("nan", "inf", "-inf"):
            raise AssertionError("non-finite number")
        return r
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=True)
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(fmt(k) + ": " + fmt(x) for k, x in v.items()) + "}"
    raise TypeError(type(v))


def write_fixture(file, cases):
    names = [c["name"] for c in cases]
    if len(set(names)) != len(names):
        raise AssertionError(f"{file}: duplicate case names")
    lines = ["{", f'  "generator": {fmt(GENERATOR)},', f'  "torch": {fmt(torch.__version__)},',
             '  "cases": [']
    for i, c in enumerate(cases):
        lines.append(f'    {{"name": {fmt(c["name"])}, "params": {fmt(c["params"])}, "tensors": {{')
        items = list(c["tensors"].items())
        for j, (k, t) in enumerate(items):
            comma = "," if j + 1 < len(items) else ""
            lines.append(f'      {fmt(k)}: {fmt(t)}{comma}')
        lines.append("    }}" + ("," if i + 1 < len(cases) else ""))
    lines.append("  ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # must be valid JSON
    if len(text) > MAX_FILE_BYTES:
        raise AssertionError(f"{file}: {len(text)} bytes, over {MAX_FILE_BYTES}")
    path = os.path.join(OUT_DIR, file)
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    print(f"wrote {os.path.normpath(path)}: {len(cases)} cases, {len(text)} bytes")


def backward_with(out, grad_out):
    (out * grad_out).sum().backward()


def check(condition, message):
    """Like assert, but not removed by python -O."""
    if not bool(condition):
        raise AssertionError(message)


def assert_close(name, analytic, autograd, tol=1e-10):
    diff = (analytic - autograd).abs().max().item()
    if not diff < tol:
        raise AssertionError(f"{name}: analytic gradient differs from autograd by {diff:.3e}")


# ---------------------------------------------------------------------------------------------
# conv2d
# ---------------------------------------------------------------------------------------------

def conv2d_cases():
    specs = [
        # name, N, C, H, W, K, kh, kw, stride, padding, bias
        ("conv3x3_pad1", 2, 3, 5, 6, 4, 3, 3, 1, 1, True),
        ("conv3x3_stride2_pad1", 2, 3, 7, 8, 5, 3, 3, 2, 1, True),
        ("conv1x1", 2, 5, 4, 3, 3, 1, 1, 1, 0, True),
        ("conv5x3_pad2_on_7x9", 2, 2, 7, 9, 3, 5, 3, 1, 2, True),
        ("conv3x3_batch1_single_channel", 1, 1, 6, 5, 2, 3, 3, 1, 0, True),
        ("conv3x3_pad1_nobias", 2, 3, 5, 5, 4, 3, 3, 1, 1, False),
        ("conv3x3_stride2x1_pad1x0", 2, 2, 7, 6, 3, 3, 3, [2, 1], [1, 0], True),
        ("conv2x2_stride2_odd_input", 3, 2, 7, 5, 3, 2, 2, 2, 0, True),
        ("conv3x3_pad2_stride3", 1, 3, 8, 7, 2, 3, 3, 3, 2, True),
    ]
    out = []
    for seed, (name, n, c, h, w, k, kh, kw, stride, padding, bias) in enumerate(specs, start=100):
        rng = Rng(seed)
        x = leaf(rng.randn(n, c, h, w))
        wt = leaf(rng.randn(k, c, kh, kw, scale=0.5))
        b = leaf(rng.randn(k)) if bias else None
        y = F.conv2d(x, wt, b, stride=stride, padding=padding)
        g = rng.randn(*y.shape)
        backward_with(y, g)
        params = {"stride": stride, "padding": padding, "bias": bias}
        tensors = {"input": x, "weight": wt}
        if bias:
            tensors["bias"] = b
        tensors.update(output=y, grad_output=g, grad_input=x.grad, grad_weight=wt.grad)
        if bias:
            tensors["grad_bias"] = b.grad
        out.append(case(name, params, **tensors))
    return out


# ---------------------------------------------------------------------------------------------
# linear
# ---------------------------------------------------------------------------------------------

def linear_cases():
    specs = [("linear_4x7_to_5", 4, 7, 5), ("linear_batch1", 1, 6, 3), ("linear_in1", 3, 1, 4)]
    out = []
    for seed, (name, n, fin, fout) in enumerate(specs, start=200):
        rng = Rng(seed)
        x = leaf(rng.randn(n, fin))
        wt = leaf(rng.randn(fout, fin, scale=0.5))
        b = leaf(rng.randn(fout))
        y = F.linear(x, wt, b)
        g = rng.randn(*y.shape)
        backward_with(y, g)
        out.append(case(name, {"bias": True}, input=x, weight=wt, bias=b, output=y, grad_output=g,
                        grad_input=x.grad, grad_weight=wt.grad, grad_bias=b.grad))
    return out


# ---------------------------------------------------------------------------------------------
# batchnorm2d
# ---------------------------------------------------------------------------------------------

def batchnorm_cases():
    eps, momentum = 1e-5, 0.1
    out = []
    train_specs = [("bn_train_2x3x4x5", 2, 3, 4, 5), ("bn_train_batch1_3x3", 1, 4, 3, 3),
                   ("bn_train_5x2x1x1", 5, 2, 1, 1)]
    for seed, (name, n, c, h, w) in enumerate(train_specs, start=300):
        rng = Rng(seed)
        x = leaf(rng.randn(n, c, h, w, scale=2.0, shift=0.5))
        gamma = leaf(rng.uniform(0.5, 1.5, c))
        beta = leaf(rng.randn(c, scale=0.1))
        rm0 = rng.randn(c, scale=0.1)
        rv0 = rng.uniform(0.5, 1.5, c)
        rm, rv = rm0.clone(), rv0.clone()
        y = F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=momentum, eps=eps)
        g = rng.randn(*y.shape)
        backward_with(y, g)
        # Check PyTorch's running-stat update against the documented rule (unbiased variance).
        m = n * h * w
        xd = x.detach()
        mean = xd.mean((0, 2, 3))
        var_unbiased = xd.var((0, 2, 3), unbiased=True)
        assert_close(name + " running_mean", (1 - momentum) * rm0 + momentum * mean, rm, 1e-14)
        assert_close(name + " running_var", (1 - momentum) * rv0 + momentum * var_unbiased, rv, 1e-13)
        check(m > 1, "one value per channel: running_var would be undefined")
        out.append(case(name, {"training": True, "eps": eps, "momentum": momentum},
                        input=x, weight=gamma, bias=beta, running_mean=rm0, running_var=rv0,
                        output=y, grad_output=g, grad_input=x.grad, grad_weight=gamma.grad,
                        grad_bias=beta.grad, running_mean_after=rm, running_var_after=rv))
    rng = Rng(310)
    n, c, h, w = 2, 3, 4, 3
    x = leaf(rng.randn(n, c, h, w))
    gamma = leaf(rng.uniform(0.5, 1.5, c))
    beta = leaf(rng.randn(c, scale=0.1))
    rm0 = rng.randn(c, scale=0.3)
    rv0 = rng.uniform(0.5, 1.5, c)
    rm, rv = rm0.clone(), rv0.clone()
    y = F.batch_norm(x, rm, rv, gamma, beta, training=False, momentum=momentum, eps=eps)
    g = rng.randn(*y.shape)
    backward_with(y, g)
    check(torch.equal(rm, rm0) and torch.equal(rv, rv0), "eval mode changed the running stats")
    out.append(case("bn_eval_2x3x4x3", {"training": False, "eps": eps, "momentum": momentum},
                    input=x, weight=gamma, bias=beta, running_mean=rm0, running_var=rv0,
                    output=y, grad_output=g, grad_input=x.grad, grad_weight=gamma.grad,
                    grad_bias=beta.grad))
    return out


# ---------------------------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------------------------

def pooling_cases():
    geoms = [
        # tag, kernel, stride, padding, (N, C, H, W)
        ("k2s2", 2, 2, 0, (2, 3, 6, 8)),
        ("k2s2_odd", 2, 2, 0, (1, 2, 7, 5)),
        ("k3s2p1", 3, 2, 1, (2, 2, 7, 6)),
        ("k3s1", 3, 1, 0, (2, 2, 5, 6)),
    ]
    out = []
    seed = 400
    for op in ("max_pool2d", "avg_pool2d"):
        for tag, k, s, p, shape in geoms:
            rng = Rng(seed)
            seed += 1
            xv = rng.randn(*shape)
            if op == "max_pool2d":
                check(xv.unique().numel() == xv.numel(), "ties in a max-pool input")
            x = leaf(xv)
            if op == "max_pool2d":
                y = F.max_pool2d(x, k, s, p)
                params = {"op": op, "kernel": k, "stride": s, "padding": p, "ceil_mode": False}
            else:
                y = F.avg_pool2d(x, k, s, p, ceil_mode=False, count_include_pad=True)
                params = {"op": op, "kernel": k, "stride": s, "padding": p, "ceil_mode": False,
                          "count_include_pad": True}
            g = rng.randn(*y.shape)
            backward_with(y, g)
            out.append(case(f"{op}_{tag}", params, input=x, output=y, grad_output=g,
                            grad_input=x.grad))
    for tag, shape in (("2x3x5x7", (2, 3, 5, 7)), ("1x4x1x1", (1, 4, 1, 1))):
        rng = Rng(seed)
        seed += 1
        x = leaf(rng.randn(*shape))
        y = x.mean((2, 3))
        g = rng.randn(*y.shape)
        backward_with(y, g)
        out.append(case(f"global_avg_pool_{tag}", {"op": "global_avg_pool"}, input=x, output=y,
                        grad_output=g, grad_input=x.grad))
    return out


# ---------------------------------------------------------------------------------------------
# softmax / log_softmax with temperature
# ---------------------------------------------------------------------------------------------

def scaled_logits(rng, b, c, magnitude):
    """Logits whose largest magnitude is `magnitude`, rounded to float32."""
    z = torch.randn(b, c, generator=rng.g, dtype=torch.float64)
    return (z / z.abs().max() * magnitude).float().double()


def softmax_cases():
    out = []
    seed = 500
    for op in ("softmax", "log_softmax"):
        fn = F.softmax if op == "softmax" else F.log_softmax
        for temp in (0.05, 1.0, 4.0, 100.0):
            for c in (1, 3, 10, 37):
                rng = Rng(seed)
                seed += 1
                z = leaf(rng.randn(4, c, scale=3.0))
                y = fn(z / temp, dim=-1)
                g = rng.randn(*y.shape)
                backward_with(y, g)
                out.append(case(f"{op}_T{temp:g}_C{c}", {"op": op, "temperature": temp},
                                input=z, output=y, grad_output=g, grad_input=z.grad))
        for temp in (0.05, 100.0):
            rng = Rng(seed)
            seed += 1
            zv = scaled_logits(rng, 3, 10, 1e4)
            zv[2] = 7.0  # a row of equal logits
            z = leaf(zv)
            y = fn(z / temp, dim=-1)
            g = rng.randn(*y.shape)
            backward_with(y, g)
            out.append(case(f"{op}_T{temp:g}_C10_huge_and_equal_logits",
                            {"op": op, "temperature": temp},
                            input=z, output=y, grad_output=g, grad_input=z.grad))
    return out


# ---------------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------------

def kl_batchmean(s, t, ts, tt):
    """batchmean KL(softmax(t/tt) || softmax(s/ts)), no T^2 factor."""
    loss = F.kl_div(F.log_softmax(s / ts, -1), F.log_softmax(t / tt, -1),
                    reduction="batchmean", log_target=True)
    # Cross-check against the definition in docs/kd-modes.md: sum over classes, mean over rows.
    log_pt = F.log_softmax(t.detach() / tt, -1)
    log_ps = F.log_softmax(s.detach() / ts, -1)
    direct = (log_pt.exp() * (log_pt - log_ps)).sum(-1).mean()
    assert_close("kl_div definition", direct, loss.detach(), 1e-12 * max(1.0, abs(direct.item())))
    return loss


def smoothed_onehot(y, c, eps):
    return (1 - eps) * F.one_hot(y, c).double() + eps / c


def cross_entropy_cases(seed0):
    out = []
    seed = seed0
    for eps in (0.0, 0.1):
        for b, c in ((4, 3), (5, 10), (3, 1), (1, 7)):
            rng = Rng(seed)
            seed += 1
            s = leaf(rng.randn(b, c, scale=2.0))
            y = rng.randint(c, b)
            loss = F.cross_entropy(s, y, label_smoothing=eps, reduction="mean")
            loss.backward()
            # (softmax - smoothed target) / B is the documented gradient.
            analytic = (F.softmax(s.detach(), -1) - smoothed_onehot(y, c, eps)) / b
            assert_close("cross_entropy", analytic, s.grad)
            out.append(case(f"cross_entropy_eps{eps:g}_B{b}_C{c}",
                            {"loss": "cross_entropy", "label_smoothing": eps, "reduction": "mean"},
                            logits=s, target=y, loss=loss, grad_logits=s.grad))
    return out


def kl_div_cases(seed0):
    out = []
    seed = seed0
    for ts, tt in ((1.0, 1.0), (4.0, 4.0), (2.0, 8.0), (0.5, 0.5)):
        for c in (1, 3, 10):
            rng = Rng(seed)
            seed += 1
            s = leaf(rng.randn(4, c, scale=2.0))
            t = rng.randn(4, c, scale=2.0)
            loss = kl_batchmean(s, t, ts, tt)
            loss.backward()
            out.append(case(f"kl_div_Ts{ts:g}_Tt{tt:g}_C{c}",
                            {"loss": "kl_div", "t_student": ts, "t_teacher": tt,
                             "reduction": "batchmean"},
                            student=s, teacher=t, loss=loss, grad_student=s.grad))
    for temp in (0.05, 100.0):
        for c in (3, 10):
            rng = Rng(seed)
            seed += 1
            sv = scaled_logits(rng, 4, c, 1e4)
            tv = scaled_logits(rng, 4, c, 1e4)
            sv[3] = -42.0  # equal student logits in the last row
            s = leaf(sv)
            loss = kl_batchmean(s, tv, temp, temp)
            check(torch.isfinite(loss), "kl_div overflowed")
            loss.backward()
            check(torch.isfinite(s.grad).all(), "kl_div gradient overflowed")
            out.append(case(f"kl_div_huge_logits_T{temp:g}_C{c}",
                            {"loss": "kl_div", "t_student": temp, "t_teacher": temp,
                             "reduction": "batchmean"},
                            student=s, teacher=tv, loss=loss, grad_student=s.grad))
    return out


def mse_cases(seed0):
    out = []
    for i, shape in enumerate(((4, 5), (2, 3, 3, 2), (1,))):
        rng = Rng(seed0 + i)
        x = leaf(rng.randn(*shape))
        target = rng.randn(*shape)
        loss = F.mse_loss(x, target, reduction="mean")
        loss.backward()
        name = "mse_" + "x".join(str(d) for d in shape)
        out.append(case(name, {"loss": "mse", "reduction": "mean"},
                        input=x, target=target, loss=loss, grad_input=x.grad))
    return out


def kd_temperature_cases(seed0):
    out = []
    seed = seed0
    specs = [(4.0, 4.0, 10, 1.0), (1.0, 1.0, 3, 1.0), (2.0, 8.0, 10, 1.0), (0.5, 0.5, 7, 1.0),
             (4.0, 4.0, 1, 1.0), (0.05, 0.05, 10, 1e4), (100.0, 100.0, 10, 1e4)]
    for ts, tt, c, magnitude in specs:
        rng = Rng(seed)
        seed += 1
        b = 5
        if magnitude == 1.0:
            sv, tv = rng.randn(b, c, scale=2.0), rng.randn(b, c, scale=2.0)
        else:
            sv, tv = scaled_logits(rng, b, c, magnitude), scaled_logits(rng, b, c, magnitude)
        kappa = ts * ts
        s = leaf(sv)
        loss = kappa * kl_batchmean(s, tv, ts, tt)
        check(torch.isfinite(loss), "kd_temperature loss overflowed")
        loss.backward()
        # docs/kd-modes.md: dL/ds_b = (kappa / B) (p_s,b - p_t,b) / T_s
        p_s = F.softmax(sv / ts, -1)
        p_t = F.softmax(tv / tt, -1)
        analytic = (kappa / b) * (p_s - p_t) / ts
        name = f"kd_temperature_Ts{ts:g}_Tt{tt:g}_C{c}" + ("_huge_logits" if magnitude != 1.0 else "")
        assert_close(name, analytic, s.grad)
        out.append(case(name, {"loss": "kd_temperature", "t_student": ts, "t_teacher": tt,
                               "kappa": kappa},
                        student=s, teacher=tv, loss=loss, grad_student=s.grad))
    return out


def kd_hinton_cases(seed0):
    out = []
    seed = seed0
    specs = [
        # name suffix, T, alpha, eps, teacher_targets, B, C
        ("default_T4_a0.1", 4.0, 0.1, 0.0, "soft", 5, 10),
        ("T4_a0.1_eps0.1", 4.0, 0.1, 0.1, "soft", 5, 10),
        ("T2_a0.5_C3", 2.0, 0.5, 0.0, "soft", 4, 3),
        ("T1_a0.9_C1", 1.0, 0.9, 0.0, "soft", 3, 1),
        ("hard_teacher_a0.1", 4.0, 0.1, 0.0, "hard", 5, 10),
        ("hard_teacher_a0.5_C3", 4.0, 0.5, 0.0, "hard", 4, 3),
    ]
    for suffix, temp, alpha, eps, mode, b, c in specs:
        rng = Rng(seed)
        seed += 1
        sv = rng.randn(b, c, scale=2.0)
        tv = rng.randn(b, c, scale=2.0)
        y = rng.randint(c, b)
        s = leaf(sv)
        loss_ce = F.cross_entropy(s, y, label_smoothing=eps, reduction="mean")
        params = {"loss": "kd_hinton", "temperature": temp, "alpha": alpha,
                  "label_smoothing": eps, "teacher_targets": mode}
        target = smoothed_onehot(y, c, eps)
        if mode == "soft":
            loss_kl = kl_batchmean(s, tv, temp, temp)
            loss = alpha * loss_ce + (1 - alpha) * temp * temp * loss_kl
            loss.backward()
            analytic = (alpha / b) * (F.softmax(sv, -1) - target) \
                + ((1 - alpha) * temp / b) * (F.softmax(sv / temp, -1) - F.softmax(tv / temp, -1))
            extra = {"loss_ce": loss_ce, "loss_kl": loss_kl}
        else:
            t_arg = tv.argmax(-1)
            loss_teacher_ce = F.cross_entropy(s, t_arg, reduction="mean")
            loss = alpha * loss_ce + (1 - alpha) * loss_teacher_ce
            loss.backward()
            analytic = (alpha / b) * (F.softmax(sv, -1) - target) \
                + ((1 - alpha) / b) * (F.softmax(sv, -1) - F.one_hot(t_arg, c).double())
            extra = {"loss_ce": loss_ce, "loss_teacher_ce": loss_teacher_ce}
        name = "kd_hinton_" + suffix
        assert_close(name, analytic, s.grad)
        out.append(case(name, params, student=s, teacher=tv, target=y, loss=loss,
                        **extra, grad_student=s.grad))
    return out


def losses_cases():
    return (cross_entropy_cases(600) + kl_div_cases(620) + mse_cases(650)
            + kd_temperature_cases(660) + kd_hinton_cases(680))


# ---------------------------------------------------------------------------------------------
# mode hybrid (kd_hybrid.json), straight from docs/kd-modes.md
# ---------------------------------------------------------------------------------------------

def block_mean(x, kh, kw):
    """Average of each kh x kw block of an [N, C, H, W] map, by reshaping (independent of avg_pool2d)."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // kh, kh, w // kw, kw).mean((3, 5))


def pool_to(x, h, w):
    """The larger map average-pooled to h x w (kernel = stride = the integer ratio), as docs/kd-modes.md says."""
    kh, kw = x.shape[2] // h, x.shape[3] // w
    check(kh * h == x.shape[2] and kw * w == x.shape[3], "spatial sizes are not integer multiples")
    if (kh, kw) == (1, 1):
        return x
    y = F.avg_pool2d(x, (kh, kw), (kh, kw))
    assert_close("avg_pool2d as block mean", block_mean(x.detach(), kh, kw), y.detach(), 1e-14)
    return y


def kd_hybrid_cases(seed0):
    """L = α·CE(s, y) + β·T²·KL_T(t ‖ s) + γ·Σ_pairs mean((r(h_s) − h_t)²), in float64 with autograd.

    Each pair is (regressor kind, student feature shape, teacher feature shape) with the batch left
    out: "conv" is a 1×1 convolution with bias, "linear" a linear layer with bias (flat features),
    "identity" no regressor (equal channel counts). Where the spatial sizes differ, the larger map
    is average-pooled to the smaller one; the teacher's feature is detached.
    """
    specs = [
        # name suffix, alpha, beta, gamma, T, B, C, pairs
        ("default_conv3to5", 0.1, 0.9, 1.0, 4.0, 3, 7, [("conv", (3, 5, 3), (5, 5, 3))]),
        ("student_map_larger_6x6_to_3x3", 0.1, 0.9, 1.0, 4.0, 3, 5, [("conv", (4, 6, 6), (3, 3, 3))]),
        ("teacher_map_larger_6x6_to_3x2", 0.1, 0.9, 1.0, 4.0, 3, 5, [("conv", (2, 3, 2), (5, 6, 6))]),
        ("identity_equal_channels", 0.1, 0.9, 1.0, 4.0, 3, 7, [("identity", (4, 3, 5), (4, 3, 5))]),
        ("two_pairs", 0.1, 0.9, 1.0, 4.0, 5, 3,
         [("conv", (3, 3, 3), (4, 3, 3)), ("identity", (2, 4, 6), (2, 2, 3))]),
        ("a0.6_b0.8_g0.3_T2", 0.6, 0.8, 0.3, 2.0, 3, 9, [("conv", (5, 3, 3), (2, 3, 3))]),
        ("features_only_a0_b0", 0.0, 0.0, 1.0, 4.0, 3, 5, [("conv", (3, 2, 3), (2, 4, 9))]),
        ("flat_linear6to4_a0.25_b0.5_g2_T3", 0.25, 0.5, 2.0, 3.0, 5, 7, [("linear", (6,), (4,))]),
    ]
    out = []
    for seed, (suffix, alpha, beta, gamma, temp, b, c, pairs) in enumerate(specs, start=seed0):
        rng = Rng(seed)
        sv = rng.randn(b, c, scale=2.0)
        tv = rng.randn(b, c, scale=2.0)
        y = rng.randint(c, b)
        s = leaf(sv)
        inputs = {"student": s, "teacher": tv, "target": y}
        hs, ht, weights, biases = [], [], [], []
        for i, (kind, s_shape, t_shape) in enumerate(pairs):
            hs.append(leaf(rng.randn(b, *s_shape)))
            ht.append(rng.randn(b, *t_shape))
            inputs[f"student_feature{i}"] = hs[i]
            inputs[f"teacher_feature{i}"] = ht[i]
            if kind == "identity":
                check(s_shape[0] == t_shape[0], "identity regressor between different channel counts")
                weights.append(None)
                biases.append(None)
                continue
            check(s_shape[0] != t_shape[0], "a learned regressor between equal channel counts")
            cin, cout = s_shape[0], t_shape[0]
            bound = 1.0 / cin ** 0.5  # PyTorch's default init range for a 1×1 conv or a linear layer
            w_shape = (cout, cin, 1, 1) if kind == "conv" else (cout, cin)
            weights.append(leaf(rng.uniform(-bound, bound, *w_shape)))
            biases.append(leaf(rng.uniform(-bound, bound, cout)))
            inputs[f"regressor{i}_weight"] = weights[i]
            inputs[f"regressor{i}_bias"] = biases[i]
        for k, v in inputs.items():
            check(torch.equal(v.detach().double().float().double(), v.detach().double()),
                  f"kd_hybrid_{suffix}: input '{k}' is not exactly representable in float32")

        loss_ce = F.cross_entropy(s, y, reduction="mean")
        loss_kl = F.kl_div(F.log_softmax(s / temp, -1), F.softmax(tv / temp, -1), reduction="batchmean")
        # The KL of docs/kd-modes.md by its definition: sum over classes, mean over rows.
        log_pt = F.log_softmax(tv / temp, -1)
        direct = (log_pt.exp() * (log_pt - F.log_softmax(sv / temp, -1))).sum(-1).mean()
        assert_close("hybrid kl definition", direct, loss_kl.detach(), 1e-12 * max(1.0, abs(direct.item())))
        loss_feature = torch.zeros(())
        for i, (kind, s_shape, t_shape) in enumerate(pairs):
            if kind == "conv":
                r = F.conv2d(hs[i], weights[i], biases[i])
            elif kind == "linear":
                r = F.linear(hs[i], weights[i], biases[i])
            else:
                r = hs[i]
            target = ht[i].detach()
            if r.dim() == 4:
                h, w = min(r.shape[2], target.shape[2]), min(r.shape[3], target.shape[3])
                r, target = pool_to(r, h, w), pool_to(target, h, w)
            loss_feature = loss_feature + ((r - target) ** 2).mean()
        loss = alpha * loss_ce + beta * temp * temp * loss_kl + gamma * loss_feature
        loss.backward()

        # docs/kd-modes.md's gradient of the output terms w.r.t. the student logits.
        analytic = (alpha / b) * (F.softmax(sv, -1) - F.one_hot(y, c).double()) \
            + (beta * temp / b) * (F.softmax(sv / temp, -1) - F.softmax(tv / temp, -1))
        name = "kd_hybrid_" + suffix
        assert_close(name, analytic, s.grad)

        params = {"loss": "kd_hybrid", "alpha": alpha, "beta": beta, "gamma": gamma, "temperature": temp,
                  "regressors": [kind for kind, _, _ in pairs]}
        tensors = dict(inputs, loss=loss, loss_ce=loss_ce, loss_kl=loss_kl, loss_feature=loss_feature,
                       grad_student=s.grad)
        for i in range(len(pairs)):
            tensors[f"grad_student_feature{i}"] = hs[i].grad
            if weights[i] is not None:
                tensors[f"grad_regressor{i}_weight"] = weights[i].grad
                tensors[f"grad_regressor{i}_bias"] = biases[i].grad
        out.append(case(name, params, **tensors))
    return out


# ---------------------------------------------------------------------------------------------
# optimizers (optim.json)
# ---------------------------------------------------------------------------------------------

OPTIM_SHAPES = [[2, 3], [4]]
OPTIM_STEPS = 3


def optim_case(name, seed, make_optimizer, params, grad_scale=1.0):
    """Trajectory of `OPTIM_STEPS` steps on two parameters with fixed, stored per-step gradients."""
    rng = Rng(seed)
    ps = [rng.randn(*shape).requires_grad_(True) for shape in OPTIM_SHAPES]
    initial = [p.detach().clone() for p in ps]
    grads = [[rng.randn(*shape, scale=grad_scale) for shape in OPTIM_SHAPES] for _ in range(OPTIM_STEPS)]
    opt = make_optimizer(ps)
    tensors = {}
    for i, p in enumerate(initial):
        tensors[f"p{i}"] = p
    after = []
    for step in range(OPTIM_STEPS):
        for p, g in zip(ps, grads[step]):
            p.grad = g.clone()
        opt.step()
        after.append([p.detach().clone() for p in ps])
    for step in range(OPTIM_STEPS):
        for i in range(len(ps)):
            tensors[f"p{i}_grad{step + 1}"] = grads[step][i]
    for step in range(OPTIM_STEPS):
        for i in range(len(ps)):
            tensors[f"p{i}_step{step + 1}"] = after[step][i]
    for k, v in tensors.items():
        if "_step" not in k and not torch.equal(v.float().double(), v):
            raise AssertionError(f"{name}: '{k}' is not exactly representable in float32")
    return case(name, dict(params, steps=OPTIM_STEPS, parameters=len(OPTIM_SHAPES)), **tensors)


def optim_cases():
    def sgd(name, seed, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        params = {"optimizer": "sgd", "lr": lr, "momentum": momentum, "dampening": dampening,
                  "weight_decay": weight_decay, "nesterov": nesterov}
        return optim_case(name, seed, lambda ps: torch.optim.SGD(
            ps, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
            nesterov=nesterov), params)

    def adamw(name, seed, lr, weight_decay, grad_scale=1.0):
        betas, eps = (0.9, 0.999), 1e-8
        params = {"optimizer": "adamw", "lr": lr, "beta1": betas[0], "beta2": betas[1], "eps": eps,
                  "weight_decay": weight_decay}
        return optim_case(name, seed, lambda ps: torch.optim.AdamW(
            ps, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay), params, grad_scale)

    return [
        sgd("sgd_plain", 700, 0.1),
        sgd("sgd_momentum0.9", 701, 0.1, momentum=0.9),
        sgd("sgd_momentum0.9_dampening0.1", 702, 0.1, momentum=0.9, dampening=0.1),
        sgd("sgd_nesterov0.9", 703, 0.1, momentum=0.9, nesterov=True),
        sgd("sgd_momentum0.9_weight_decay0.01", 704, 0.1, momentum=0.9, weight_decay=0.01),
        adamw("adamw_weight_decay0.01", 710, 0.05, 0.01),
        adamw("adamw_weight_decay0", 711, 0.05, 0.0),
        # Gradients of order 1e-8, where eps matters in the denominator.
        adamw("adamw_tiny_grads_weight_decay0.01", 712, 0.05, 0.01, grad_scale=1e-8),
    ]


# ---------------------------------------------------------------------------------------------
# reference networks (models.json), as docs/networks.md and Retort's Models.java define them
# ---------------------------------------------------------------------------------------------

class BasicBlock(torch.nn.Module):
    """He et al.'s CIFAR block with option-B shortcuts, torchvision's names."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        nn = torch.nn
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class CifarResNet(torch.nn.Module):
    def __init__(self, depth, classes=10):
        super().__init__()
        nn = torch.nn
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._stage(16, 16, n, 1)
        self.layer2 = self._stage(16, 32, n, 2)
        self.layer3 = self._stage(32, 64, n, 2)
        self.fc = nn.Linear(64, classes)

    @staticmethod
    def _stage(cin, cout, blocks, stride):
        return torch.nn.Sequential(BasicBlock(cin, cout, stride),
                                   *[BasicBlock(cout, cout, 1) for _ in range(blocks - 1)])

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean((2, 3)))


def reference_network(name):
    nn = torch.nn

    def conv(cin, cout):
        return nn.Conv2d(cin, cout, 3, padding=1)

    def mlp(hidden):
        return nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                             nn.ReLU(), nn.Linear(hidden, 10))

    if name == "cnn-teacher":
        return nn.Sequential(conv(1, 32), nn.BatchNorm2d(32), nn.ReLU(),
                             conv(32, 32), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                             conv(32, 64), nn.BatchNorm2d(64), nn.ReLU(),
                             conv(64, 64), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(3136, 256), nn.ReLU(), nn.Dropout(0.3),
                             nn.Linear(256, 10))
    if name == "cnn-student":
        return nn.Sequential(conv(1, 8), nn.ReLU(), nn.MaxPool2d(2), conv(8, 16), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(784, 10))
    if name == "mlp-teacher":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 1200), nn.ReLU(), nn.Dropout(0.5),
                             nn.Linear(1200, 1200), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1200, 10))
    if name == "mlp-student":
        return mlp(800)
    if name == "mlp-tiny":
        return mlp(30)
    if name == "resnet20":
        return CifarResNet(20)
    if name == "resnet8":
        return CifarResNet(8)
    raise AssertionError(f"unknown reference network {name}")


MODEL_NAMES = ["cnn-teacher", "cnn-student", "mlp-teacher", "mlp-student", "mlp-tiny", "resnet20", "resnet8"]


def models_cases():
    out = []
    for name in MODEL_NAMES:
        torch.manual_seed(0)
        model = reference_network(name)
        state = [(k, list(v.shape)) for k, v in model.state_dict().items()
                 if not k.endswith("num_batches_tracked")]
        input_shape = [3, 32, 32] if name.startswith("resnet") else [1, 28, 28]
        count = sum(p.numel() for p in model.parameters())
        with torch.no_grad():
            logits = model.eval()(torch.zeros(2, *input_shape))
        check(list(logits.shape) == [2, 10], f"{name}: logits of shape {list(logits.shape)}")
        out.append(case(name, {"model": name, "input_shape": input_shape, "parameter_count": count,
                               "state_keys": [k for k, _ in state],
                               "state_shapes": [s for _, s in state]}))

    # Forward of cnn-student with every parameter set from a seeded float32 draw.
    rng = Rng(720)
    model = reference_network("cnn-student").eval()
    params = {}
    for k, v in model.state_dict().items():
        fan_in = v[0].numel() if k.endswith("weight") else dict(model.state_dict())[k[:-4] + "weight"][0].numel()
        bound = 1.0 / fan_in ** 0.5
        params[k] = rng.uniform(-bound, bound, *v.shape)
    model.load_state_dict(params)
    x = rng.randn(3, 1, 28, 28)
    with torch.no_grad():
        y = model(x)
    for k, v in params.items():
        check(torch.equal(v.float().double(), v), f"cnn-student parameter {k} is not float32")
    out.append(case("cnn-student_forward", {"model": "cnn-student", "parameters": list(params.keys())},
                    input=x, **params, output=y))
    return out


# ---------------------------------------------------------------------------------------------
# Interop fixtures: files as PyTorch and NumPy users have them (src/test/resources/interop/)
# ---------------------------------------------------------------------------------------------

SAFETENSORS_DTYPES = {torch.float32: ("F32", "<f4"), torch.float64: ("F64", "<f8"), torch.int64: ("I64", "<i8")}


def write_safetensors(file, state, metadata):
    """The safetensors format by hand (no safetensors package on Debian): an 8-byte little-endian
    header length, the JSON header padded with spaces to a multiple of 8, then the raw data."""
    header = {"__metadata__": metadata}
    chunks = []
    offset = 0
    for k, v in state.items():
        code, descr = SAFETENSORS_DTYPES[v.dtype]
        data = v.detach().contiguous().numpy().astype(descr).tobytes()
        header[k] = {"dtype": code, "shape": list(v.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    path = os.path.join(INTEROP_DIR, file)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
    print(f"wrote {os.path.normpath(path)}: {len(state)} tensors, {8 + len(text) + offset} bytes")


def write_npy(file, t, descr):
    import numpy as np
    path = os.path.join(INTEROP_DIR, file)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, t.detach().numpy().astype(descr), version=(1, 0), allow_pickle=False)
    print(f"wrote {os.path.normpath(path)}: {descr} {list(t.shape)}")


def seeded_parameters(model, rng):
    """Every parameter from a uniform draw in PyTorch's default init range, exact in float32."""
    state = model.state_dict()
    params = {}
    for k, v in state.items():
        if k.endswith("weight") and v.dim() > 1:
            bound = 1.0 / v[0].numel() ** 0.5
        elif k.endswith("bias") and k[:-4] + "weight" in state and state[k[:-4] + "weight"].dim() > 1:
            bound = 1.0 / state[k[:-4] + "weight"][0].numel() ** 0.5
        else:
            continue
        params[k] = rng.uniform(-bound, bound, *v.shape)
    return params


def interop_fixtures():
    os.makedirs(INTEROP_DIR, exist_ok=True)
    meta = {"generator": GENERATOR, "torch": torch.__version__}

    # cnn-student exactly as Models.create builds it, seeded weights, logits in float64.
    rng = Rng(9001)
    model = reference_network("cnn-student").eval()
    model.load_state_dict(seeded_parameters(model, rng))
    x = rng.randn(4, 1, 28, 28)
    with torch.no_grad():
        y = model(x)
    write_safetensors("cnn-student.safetensors", {k: v.float() for k, v in model.state_dict().items()},
                      dict(meta, model="cnn-student"))
    write_npy("cnn-student_input.npy", x, "<f4")
    write_npy("cnn-student_logits.npy", y, "<f8")

    # A tiny network with a BatchNorm2d, so the file holds num_batches_tracked (I64) and running
    # statistics from three training batches. Weights of the Linear layer are stored as F64.
    rng = Rng(9002)
    nn = torch.nn
    tiny = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64, 3))
    tiny.load_state_dict(dict(tiny.state_dict(), **seeded_parameters(tiny, rng)))
    with torch.no_grad():
        tiny[1].weight.copy_(rng.uniform(0.5, 1.5, 4))
        tiny[1].bias.copy_(rng.randn(4, scale=0.1))
        tiny.train()
        for _ in range(3):
            tiny(rng.randn(5, 1, 8, 8, scale=2.0, shift=0.5))
        for b in (tiny[1].running_mean, tiny[1].running_var):
            b.copy_(b.float().double())
    check(int(tiny[1].num_batches_tracked) == 3, "bn-tiny: num_batches_tracked is not 3")
    tiny.eval()
    x = rng.randn(2, 1, 8, 8)
    with torch.no_grad():
        y = tiny(x)
    state = {k: (v if v.dtype == torch.int64 or k.startswith("5.") else v.float()) for k, v in tiny.state_dict().items()}
    write_safetensors("bn-tiny.safetensors", state, dict(meta, model="bn-tiny"))
    write_npy("bn-tiny_input.npy", x, "<f4")
    write_npy("bn-tiny_logits.npy", y, "<f8")


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    write_fixture("conv2d.json", conv2d_cases())
    write_fixture("linear.json", linear_cases())
    write_fixture("batchnorm2d.json", batchnorm_cases())
    write_fixture("pooling.json", pooling_cases())
    write_fixture("softmax.json", softmax_cases())
    write_fixture("losses.json", losses_cases())
    write_fixture("kd_hybrid.json", kd_hybrid_cases(740))
    write_fixture("optim.json", optim_cases())
    write_fixture("models.json", models_cases())
    interop_fixtures()
    print("all analytic gradient checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"make_golden.py: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
