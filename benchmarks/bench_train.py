"""Time one training update per learning rule — ours, the authors' way of stepping, and the arithmetic floor — at
the reach task's and sequential MNIST's sizes; and the similarity metrics at the Mante size.

    python benchmarks/bench_train.py [--threads 1 --repeats 7 --configs reach smnist --rules bptt eprop ...]

One update is what :func:`biocredit.train.train` does per step: ``zero_grad``, forward, the task's loss (reach: MSE
on every step plus the activity penalty λ·mean(h²); sMNIST: softmax cross-entropy at the last step), backward and
one Adam step.

- **compiled**: :class:`biocredit.model.RateRNN` with the fused recurrence (:func:`biocredit.model.recurrence`)
  on its compiled C++ step (:mod:`biocredit.kernel`; ``BIOCREDIT_KERNEL=cpp`` inside the timed call).
- **eager**: the same update with the Python fused step (``BIOCREDIT_KERNEL=eager``): the reference and fallback.
- **own tanh** (tanh and retanh nets): compiled, with the kernel's own tanh fused into the step's pass
  (``BIOCREDIT_KERNEL_TANH=own``; not bit-identical to the Python step, so not the workflow's default).
- **authors**: the way the authors' PyTorch code steps a network — a per-step autograd loop over ``nn.Linear``
  layers (input, recurrent, output), the recurrent input detached (``h.detach()``) where the rule cuts the
  recurrence (e-prop and its random-feedback variants every step, tBPTT every ``window`` steps from the trial end),
  the readout's backward through a fixed random matrix for ``eprop_random``/``rflo``, and for MDGL a one-step
  shadow term. Written here from the equations, independently of the library's model; the script checks that
  both give the same gradients before timing them.
- **floor**: the time of the matrix products the update cannot avoid, each product timed alone at its own shape
  on this machine (median of many calls): per step ``h_{t-1} W_recᵀ`` (forward) and, for every step that passes
  credit through ``W_rec``, ``δ_t W_rec`` (backward), the weight gradient ``Σ_t δ_tᵀ h_{t-1}`` as one product,
  the input drive, the readout and their gradients. Elementwise work, Python and Adam count as zero.

Medians of ``--repeats`` updates (and, as a guide on a shared machine, the fastest of them); compiled, eager and
the authors' alternate within each repetition, in one process per size. Peak memory is that process's maximum RSS.
Issue 27's targets: at reach size BPTT and e-prop within 1.3× of the floor and ≥ 3× faster than the authors' way;
at the sMNIST size within 1.5× of the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

CONFIGS = {
    # name: (n_in, n_hidden, n_out, batch, steps, activation, tau, activity penalty λ)
    "reach": (3, 200, 2, 100, 300, "retanh", 10.0, 10.0),
    "smnist": (28, 128, 10, 256, 28, "relu", 1.0, 0.0),
}
RULES = ["bptt", "tbptt", "eprop", "eprop_random", "rflo", "mdgl"]
#: issue 27's targets: (largest compiled / floor, smallest authors / compiled or None), per size, for the rules named
TARGETS = {"reach": {"bptt": (1.3, 3.0), "eprop": (1.3, 3.0)},
           "smnist": {r: (1.5, None) for r in RULES}}


def _task_loss(name, y, target):
    import torch

    if name == "smnist":
        return torch.nn.functional.cross_entropy(y[:, -1], target)
    return ((y - target) ** 2).mean()


# --- the authors' way of stepping (our own words) -------------------------------------------------------------------

def _authors_net(model, feedback):
    """``nn.Linear`` layers holding copies of ``model``'s weights (and the random feedback matrix, if any)."""
    import torch
    from torch import nn

    n, n_in, n_out = model.config.n_hidden, model.config.n_in, model.config.n_out
    net = nn.Module()
    net.inp, net.rec, net.out = nn.Linear(n_in, n), nn.Linear(n, n, bias=False), nn.Linear(n, n_out)
    with torch.no_grad():
        net.inp.weight.copy_(model.w_in)
        net.inp.bias.copy_(model.b)
        net.rec.weight.copy_(model.w_rec)
        net.out.weight.copy_(model.w_out)
        net.out.bias.copy_(model.b_out)
    net.a0 = nn.Parameter(model.a0.detach().clone())
    net.feedback = feedback
    return net


def _authors_forward(net, x, rule, alpha, f):
    """The per-step loop: returns (y, h), both (batch, time, ·)."""
    import torch

    batch, n_steps, _ = x.shape
    a = net.a0.expand(batch, -1)
    h = f(a)
    cuts = [rule.cuts_recurrence(t, n_steps) for t in range(n_steps)]
    ys, hs = [], []
    for t in range(n_steps):
        h_prev = h
        rec_in = h_prev.detach() if cuts[t] else h_prev
        a = (1 - alpha) * a + alpha * (net.rec(rec_in) + net.inp(x[:, t]))
        h = f(a)
        h_out = h
        if cuts[t] and rule.one_step_credit:  # MDGL: h_t's partial signal reaches h_{t-1} through one W_rec step
            shadow = f(a.detach() + alpha * (h_prev - h_prev.detach()) @ net.rec.weight.detach().t())
            h_out = h + (shadow - shadow.detach())
        if net.feedback is None:
            y = net.out(h_out)
        else:  # value W_out h + b_out; h receives the error through B, W_out its exact gradient
            y = net.out(h_out.detach()) + (h_out @ net.feedback.t() - (h_out @ net.feedback.t()).detach())
        ys.append(y)
        hs.append(h_out if rule.activity_credit else h_out.detach())
    return torch.stack(ys, 1), torch.stack(hs, 1)


# --- timing -----------------------------------------------------------------------------------------------------------

def _times(fn, repeats: int) -> list[float]:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def _median_time(fn, repeats: int) -> float:
    return statistics.median(_times(fn, repeats))


def _product_times(batch, steps, n_in, n, n_out, reps=30, stat=statistics.median, keep=None) -> dict:
    """Seconds per product at each shape of the update (``stat`` of ``reps`` calls, outputs preallocated). A product
    that can be formed in either orientation (``C = A B`` or ``Cᵀ = Bᵀ Aᵀ``) counts with the faster one; ``keep``
    (a dict), if given, receives that one's call per shape (for :func:`_floor_now`)."""
    import torch

    g = torch.Generator().manual_seed(1)

    def rand(*shape):
        return torch.rand(*shape, generator=g)

    big_a, big_b = rand(steps * batch, n), rand(steps * batch, n)
    x_flat, y_flat = rand(steps * batch, n_in), rand(steps * batch, n_out)
    w_in, w_out = rand(n, n_in), rand(n_out, n)
    shapes = {  # name: pairs (A, B) whose product is the same numbers, one per orientation
        "step": [(rand(batch, n), rand(n, n))],  # (B,N)(N,N): one forward or backward recurrent step
        "w_rec_grad": [(big_a.t(), big_b)],  # (N,TB)(TB,N)
        "drive": [(x_flat, w_in.t()), (w_in, x_flat.t())],
        "w_in_grad": [(big_a.t(), x_flat), (x_flat.t(), big_a)],
        "readout": [(big_a, w_out.t()), (w_out, big_a.t())],
        "readout_back": [(y_flat, w_out), (w_out.t(), y_flat.t())],
        "w_out_grad": [(y_flat.t(), big_a), (big_a.t(), y_flat)],
    }
    out = {}
    for k, pairs in shapes.items():
        times, calls = [], []
        for a, b in pairs:
            o = torch.empty(a.shape[0], b.shape[1])
            calls.append(lambda a=a, b=b, o=o: torch.mm(a, b, out=o))
            times.append(stat(_times(calls[-1], reps)))
        out[k] = min(times)
        if keep is not None:
            keep[k] = calls[times.index(out[k])]
    return out


def _floor_now(calls: dict, rule, steps: int, name: str) -> float:
    """The floor of one update (as :func:`_floor`) measured now: every product of the update run once in a row
    (the step product as often as the update makes it), so that it can be paired with the updates timed beside
    it on a machine whose load drifts."""
    cut = [rule.cuts_recurrence(t, steps) for t in range(steps)]
    n_back = sum(1 for t in range(steps) if not cut[t] or rule.one_step_credit)
    readout_steps = 1 / steps if name == "smnist" else 1.0
    total = 0.0
    for k, count, weight in (("step", steps + n_back, 1.0), ("w_rec_grad", 1, 1.0), ("drive", 1, 1.0),
                             ("w_in_grad", 1, 1.0), ("readout", 1, readout_steps),
                             ("readout_back", 1, readout_steps), ("w_out_grad", 1, readout_steps)):
        call = calls[k]
        t0 = time.perf_counter()
        for _ in range(count):
            call()
        total += weight * (time.perf_counter() - t0)
    return total


def _floor(prod: dict, rule, steps: int, name: str) -> float:
    """Seconds of unavoidable products for one update of ``rule`` (see the module docstring)."""
    cut = [rule.cuts_recurrence(t, steps) for t in range(steps)]
    n_back = sum(1 for t in range(steps) if not cut[t] or rule.one_step_credit)
    readout_steps = 1 / steps if name == "smnist" else 1.0  # CE at the last step: only that step's readout counts
    return (steps * prod["step"] + n_back * prod["step"] + prod["w_rec_grad"] + prod["drive"] + prod["w_in_grad"]
            + readout_steps * (prod["readout"] + prod["readout_back"] + prod["w_out_grad"]))


def _with_kernel(mode: str, fn, tanh: str = "aten"):
    """``fn`` run with ``BIOCREDIT_KERNEL=mode`` and ``BIOCREDIT_KERNEL_TANH=tanh`` (both read at each call)."""
    settings = {"BIOCREDIT_KERNEL": mode, "BIOCREDIT_KERNEL_TANH": tanh}

    def run():
        old = {k: os.environ.get(k) for k in settings}
        os.environ.update(settings)
        try:
            fn()
        finally:
            for k, v in old.items():
                if v is None:
                    del os.environ[k]
                else:
                    os.environ[k] = v

    return run


def run_config(name: str, rules: list[str], repeats: int, threads: int) -> dict:
    import torch

    from biocredit import kernel
    from biocredit._memory import keep_freed_memory
    from biocredit.learning import make_rule
    from biocredit.model import ACTIVATIONS, ModelConfig, RateRNN, mean_square

    torch.set_num_threads(threads)
    keep_freed_memory()  # as biocredit.train.train does; both sides of every comparison run under it
    n_in, n, n_out, batch, steps, act, tau, lam = CONFIGS[name]
    gen = torch.Generator().manual_seed(0)
    model = RateRNN(ModelConfig(n_in, n, n_out, tau=tau, activation=act), generator=gen)
    x = torch.rand(batch, steps, n_in, generator=gen)
    if name == "smnist":
        target = torch.randint(n_out, (batch,), generator=gen)
    else:
        target = torch.rand(batch, steps, n_out, generator=gen)
    calls: dict = {}
    prod = _product_times(batch, steps, n_in, n, n_out, keep=calls)
    prod_min = _product_times(batch, steps, n_in, n, n_out, stat=min)
    out: dict = {"products_ms": {k: 1e3 * v for k, v in prod.items()}}
    t0 = time.perf_counter()
    kernel.load()  # builds the extension if this machine has not yet (raises if it cannot: nothing to compare)
    out["kernel_load_s"] = time.perf_counter() - t0
    for r in rules:
        rule = make_rule(r)
        feedback = None
        if hasattr(rule, "feedback_matrix"):
            feedback = rule.feedback_matrix(n, n_out).to(torch.float32)
        net = _authors_net(model, feedback)
        ours_opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.0)
        authors_opt = torch.optim.Adam(list(net.parameters()), lr=0.0)  # lr 0: every repetition sees the same net

        def ours(rule=rule, ours_opt=ours_opt):
            ours_opt.zero_grad()
            y, h = model(x, rule)
            loss = _task_loss(name, y, target)
            if lam:
                loss = loss + lam * mean_square(h)
            loss.backward()
            ours_opt.step()

        def authors(rule=rule, net=net, authors_opt=authors_opt):
            authors_opt.zero_grad()
            y, h = _authors_forward(net, x, rule, model.alpha, ACTIVATIONS[act])
            loss = _task_loss(name, y, target)
            if lam:
                loss = loss + lam * (h**2).mean()
            loss.backward()
            authors_opt.step()

        sides = {"compiled": _with_kernel("cpp", ours), "eager": _with_kernel("eager", ours)}
        if act != "relu":
            sides["own_tanh"] = _with_kernel("cpp", ours, tanh="own")
        pairs = [(model.w_rec, net.rec.weight), (model.w_in, net.inp.weight), (model.w_out, net.out.weight),
                 (model.a0, net.a0)]
        grads = {}
        for side, fn in sides.items():
            fn()
            grads[side] = [p.grad.clone() for p, _ in pairs]
        authors()
        rel = max(float((p - q.grad).norm() / q.grad.norm().clamp_min(1e-30))
                  for p, (_, q) in zip(grads["compiled"], pairs, strict=True))
        rel_eager = max(float((p - q).norm() / q.norm().clamp_min(1e-30))
                        for p, q in zip(grads["compiled"], grads["eager"], strict=True))
        times: dict = {side: [] for side in (*sides, "authors", "floor_now")}
        for _ in range(repeats):  # side by side: one of each per repetition
            for side, fn in (*sides.items(), ("authors", authors)):
                t0 = time.perf_counter()
                fn()
                times[side].append(time.perf_counter() - t0)
            times["floor_now"].append(_floor_now(calls, rule, steps, name))

        def paired(num, den, times=times):  # median over the repetitions of the ratio within each
            return statistics.median(a / b for a, b in zip(times[num], times[den], strict=True))

        out[r] = {**{k: statistics.median(v) for k, v in times.items()},
                  **{k + "_min": min(v) for k, v in times.items()},
                  "floor": _floor(prod, rule, steps, name), "floor_min": _floor(prod_min, rule, steps, name),
                  "ratios": {f"{a}/{b}": paired(a, b) for a, b in (
                      ("compiled", "floor_now"), ("eager", "floor_now"), ("eager", "compiled"),
                      ("authors", "compiled"), *((("own_tanh", "floor_now"), ("authors", "own_tanh"))
                                                 if "own_tanh" in sides else ()))},
                  "grad_rel_diff": rel, "grad_rel_diff_eager": rel_eager}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def similarity_times(repeats: int) -> dict:
    import numpy as np

    from biocredit.similarity import cca_distance, cka_distance, procrustes_distance

    rng = np.random.default_rng(0)
    x, y = rng.random((3600, 400)), rng.random((3600, 727))  # Mante: 72 conditions x 50 bins; N=400 vs 727 units
    out = {}
    for name, f in (("procrustes", procrustes_distance), ("cka", cka_distance), ("cca (20 PCs)", cca_distance)):
        out[name] = _median_time(lambda f=f: f(x, y), repeats)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--rules", nargs="*", default=RULES)
    p.add_argument("--configs", nargs="*", default=list(CONFIGS))
    p.add_argument("--no-similarity", action="store_true", help="skip the similarity-metric timings")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(run_config(args.worker, args.rules, args.repeats, args.threads)))
        return
    import torch

    load = os.getloadavg()[0]
    print(f"machine: {platform.machine()} {platform.system()} {platform.release()} | {os.cpu_count()} cores | "
          f"torch {torch.__version__} | threads {args.threads} | repeats {args.repeats} (medians) | "
          f"load average {load:.2f} at start | {time.strftime('%Y-%m-%d %H:%M')}")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    for name in args.configs:
        cmd = [sys.executable, __file__, "--worker", name, "--threads", str(args.threads), "--repeats",
               str(args.repeats), "--rules", *args.rules]
        res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)
        n_in, n, n_out, batch, steps, act, tau, lam = CONFIGS[name]
        prods = ", ".join(f"{k} {v:.3f}" for k, v in res["products_ms"].items())
        print(f"\n### {name}: N={n}, batch {batch}, {steps} steps, {act}, tau={tau:g}, penalty λ={lam:g} "
              f"(peak RSS of the process {res['peak_rss_mb']:.0f} MB; compiled step loaded in "
              f"{res['kernel_load_s']:.1f} s)\n\nproducts alone (ms): {prods}\n")
        own = act != "relu"
        print("Ratios are medians over the repetitions of the ratio within each (paired: a load change between\n"
              "repetitions cancels); the floor beside each repetition is every product of that update run once in a\n"
              "row (`floor now`); `floor` is the sum of per-product medians timed before the updates.\n")
        print("| rule | compiled (ms) | eager fused (ms) | authors' loop (ms) | floor now, floor (ms) |"
              " compiled / floor | eager / floor | eager / compiled | authors / compiled | issue 27 target |"
              + (" own tanh (ms), / floor, authors / own |" if own else "")
              + " fastest: compiled, eager, authors, floor now (ms) | gradients: compiled vs authors, vs eager |")
        print("|---|---|---|---|---|---|---|---|---|---|" + ("---|" if own else "") + "---|---|")
        for r in args.rules:
            res_r, q = res[r], res[r]["ratios"]
            c, e, a, fn, f = (res_r[k] for k in ("compiled", "eager", "authors", "floor_now", "floor"))
            cm, em, am, fm = (res_r[k + "_min"] for k in ("compiled", "eager", "authors", "floor_now"))
            c_f, a_c = q["compiled/floor_now"], q["authors/compiled"]
            tgt = "–"
            if r in TARGETS.get(name, {}):
                max_floor, min_authors = TARGETS[name][r]
                ok = c_f <= max_floor and (min_authors is None or a_c >= min_authors)
                tgt = f"≤ {max_floor}× floor" + (f", ≥ {min_authors}× authors" if min_authors else "")
                tgt += ": met" if ok else ": missed"
            own_col = ""
            if own:
                own_col = (f" {1e3 * res_r['own_tanh']:.1f}, {q['own_tanh/floor_now']:.2f}, "
                           f"{q['authors/own_tanh']:.2f} |")
            print(f"| {r} | {1e3 * c:.1f} | {1e3 * e:.1f} | {1e3 * a:.1f} | {1e3 * fn:.1f}, {1e3 * f:.1f} | "
                  f"{c_f:.2f} | {q['eager/floor_now']:.2f} | {q['eager/compiled']:.2f} | {a_c:.2f} | {tgt} |"
                  f"{own_col} {1e3 * cm:.1f}, {1e3 * em:.1f}, {1e3 * am:.1f}, {1e3 * fm:.1f} | "
                  f"{res_r['grad_rel_diff']:.1e}, {res_r['grad_rel_diff_eager']:.1e} |")
    if not args.no_similarity:
        print("\n### similarity metrics at the Mante size (3600 samples; 400 model units vs 727 recorded)\n")
        print("| metric | seconds |")
        print("|---|---|")
        for k, v in similarity_times(args.repeats).items():
            print(f"| {k} | {v:.4f} |")


if __name__ == "__main__":
    main()
