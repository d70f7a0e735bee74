"""Time the top Hessian eigenvalue of the W_rec block: Lanczos vs power iteration (Liu et al., NeurIPS 2022).

    python benchmarks/bench_curvature.py [--n-hidden 128 --batch 256 --steps 28 --n-in 28 --repeats 3 --threads N]

The network is the authors' sequential-MNIST net: a leak-free ReLU RNN (``tau = 1``) with their initialisation
(He-normal ``W_in``/``W_rec``, zero ``W_rec`` diagonal, Glorot-uniform ``W_out``, zero biases), on random
inputs in [0, 1] with random labels; loss = cross-entropy of the last step's outputs + ``1e-2 · ½(‖W_in‖² +
‖W_rec‖² + ‖W_out‖²)``. The Hessian is that of the full graph (``fused=False``) w.r.t. ``W_rec`` only.

Prints the machine, threads and repeats, then a markdown table: seconds per HVP, and for each method the HVPs and
seconds (medians over ``repeats`` start vectors, seeds 0..repeats-1) to the top eigenvalue, with the largest
relative error against a tightly converged Lanczos reference. Power iteration is timed with the relative 1e-3
rule (a fair comparison with Lanczos at 1e-3) and with the authors' absolute 1e-6 rule; it estimates the
*magnitude* of the dominant eigenvalue, so its error is measured against that.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time

import numpy as np
import torch

from biocredit.curvature import HessianOperator, rnn_loss_closure, top_eigenvalue_lanczos, top_eigenvalue_power
from biocredit.model import ModelConfig, RateRNN


def authors_net(n_in: int, n_hidden: int, n_out: int, gen: torch.Generator, dtype: torch.dtype) -> RateRNN:
    """The spec's §2a net: leak-free ReLU RNN, He init, zero-diagonal W_rec, Glorot W_out, zero biases."""
    cfg = ModelConfig(n_in=n_in, n_hidden=n_hidden, n_out=n_out, tau=1.0, activation="relu", learn_init_state=False)
    model = RateRNN(cfg, generator=gen).to(dtype)
    with torch.no_grad():
        model.w_in.copy_(torch.randn(n_hidden, n_in, generator=gen) * math.sqrt(2 / n_in))
        model.w_rec.copy_(torch.randn(n_hidden, n_hidden, generator=gen) * math.sqrt(2 / n_hidden))
        model.w_rec.fill_diagonal_(0.0)
        bound = math.sqrt(6 / (n_hidden + n_out))
        model.w_out.copy_((torch.rand(n_out, n_hidden, generator=gen) * 2 - 1) * bound)
        model.b.zero_()
        model.b_out.zero_()
    return model


def train(model: RateRNN, args: argparse.Namespace, gen: torch.Generator, dtype: torch.dtype) -> None:
    """``args.train_steps`` of plain SGD (lr 1e-2, BPTT, fused path) on fresh random batches, same loss."""
    opt = torch.optim.SGD(model.parameters(), lr=1e-2)
    for _ in range(args.train_steps):
        x = torch.rand(args.batch, args.steps, args.n_in, generator=gen).to(dtype)
        labels = torch.randint(0, args.n_out, (args.batch,), generator=gen)
        opt.zero_grad()
        y, _ = model(x)
        l2 = 0.5 * sum((w**2).sum() for w in (model.w_in, model.w_rec, model.w_out))
        (torch.nn.functional.cross_entropy(y[:, -1], labels) + 1e-2 * l2).backward()
        opt.step()


def build_operator(model: RateRNN, x: torch.Tensor, labels: torch.Tensor, reg_l2: float = 1e-2) -> HessianOperator:
    def loss(y: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        l2 = 0.5 * sum((w**2).sum() for w in (model.w_in, model.w_rec, model.w_out))
        return torch.nn.functional.cross_entropy(y[:, -1], labels) + reg_l2 * l2

    return HessianOperator(rnn_loss_closure(model, x, loss), [model.w_rec])


class Negated:
    """``-op``, to find the smallest eigenvalue with the same top-eigenvalue routine."""

    def __init__(self, op: HessianOperator) -> None:
        self.op, self.dim = op, op.dim

    def matvec(self, v: np.ndarray) -> np.ndarray:
        return -self.op.matvec(v)


def timed(fn, *args, **kwargs) -> tuple[dict, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def seconds_per_hvp(op: HessianOperator, repeats: int, n: int = 10) -> float:
    v = np.random.default_rng(0).standard_normal(op.dim)
    op.matvec(v)  # warm-up
    times = []
    for _ in range(repeats):
        _, t = timed(lambda: [op.matvec(v) for _ in range(n)])
        times.append(t / n)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-hidden", type=int, default=128)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=28)
    p.add_argument("--n-in", type=int, default=28)
    p.add_argument("--n-out", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="authors: float32")
    p.add_argument("--max-iter", type=int, default=500, help="power iteration cap (authors: 500)")
    p.add_argument("--ref-hvp", type=int, default=300, help="HVP budget of the reference Lanczos runs")
    p.add_argument("--train-steps", type=int, default=0,
                   help="BPTT SGD steps (lr 1e-2, fresh random batches) before measuring; 0: at initialisation")
    args = p.parse_args()
    load0 = os.getloadavg()[0]
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    gen = torch.Generator().manual_seed(0)
    model = authors_net(args.n_in, args.n_hidden, args.n_out, gen, dtype)
    x = torch.rand(args.batch, args.steps, args.n_in, generator=gen).to(dtype)
    labels = torch.randint(0, args.n_out, (args.batch,), generator=gen)

    train(model, args, gen, dtype)
    setup = statistics.median(timed(build_operator, model, x, labels)[1] for _ in range(args.repeats))
    op = build_operator(model, x, labels)
    per_hvp = seconds_per_hvp(op, args.repeats)

    ref_tol = 1e-8 if dtype == torch.float64 else 1e-5
    lam_max = top_eigenvalue_lanczos(op, tol=ref_tol, max_hvp=args.ref_hvp, seed=123)
    lam_min = top_eigenvalue_lanczos(Negated(op), tol=ref_tol, max_hvp=args.ref_hvp, seed=123)
    dominant = max(abs(lam_max["value"]), abs(lam_min["value"]))

    methods = [
        ("Lanczos (own, full reorth.)", "residual β_k·abs(s_k) ≤ 1e-3·λ", lam_max["value"],
         lambda s: top_eigenvalue_lanczos(op, tol=1e-3, max_hvp=args.ref_hvp, seed=s)),
        ("Lanczos (own, full reorth.)", "rel. change of Ritz value ≤ 1e-3", lam_max["value"],
         lambda s: top_eigenvalue_lanczos(op, tol=1e-3, max_hvp=args.ref_hvp, seed=s, stop="change")),
        ("ARPACK eigsh (k=1, LA)", "tol=1e-3", lam_max["value"],
         lambda s: top_eigenvalue_lanczos(op, tol=1e-3, max_hvp=args.ref_hvp, seed=s, method="eigsh")),
        ("power iteration", "relative abs(Δλ) ≤ 1e-3·λ", dominant,
         lambda s: top_eigenvalue_power(op, tol=1e-3, max_iter=args.max_iter, seed=s, relative=True)),
        ("power iteration (authors)", "absolute abs(Δλ) ≤ 1e-6", dominant,
         lambda s: top_eigenvalue_power(op, tol=1e-6, max_iter=args.max_iter, seed=s)),
    ]

    print(f"machine: {platform.machine()} {platform.processor() or ''} | {' '.join(platform.uname()[:3])} | "
          f"torch {torch.__version__} | threads {args.threads} | repeats {args.repeats} (medians; seeds "
          f"0..{args.repeats - 1}) | {args.dtype} | N={args.n_hidden} batch={args.batch} T={args.steps} "
          f"n_in={args.n_in} | W_rec block dim {op.dim} | load average {load0:.2f} at start | "
          f"train steps {args.train_steps} | "
          f"{time.strftime('%Y-%m-%d')}")
    print(f"reference (Lanczos, tol {ref_tol:g}): λ_max = {lam_max['value']:.6g} ({lam_max['n_hvp']} HVPs, converged "
          f"{lam_max['converged']}), λ_min = {-lam_min['value']:.6g} ({lam_min['n_hvp']} HVPs); gradient + "
          f"double-backward graph setup {setup:.4f} s (median)")
    print()
    print("| method | stopping rule | HVPs | seconds | s / HVP | value | max rel. error | converged |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| one HVP | — | 1 | {per_hvp:.4f} | {per_hvp:.4f} | — | — | — |")
    for name, rule, target, fn in methods:
        runs = [timed(fn, s) for s in range(args.repeats)]
        hvps = statistics.median(r["n_hvp"] for r, _ in runs)
        secs = statistics.median(t for _, t in runs)
        value = statistics.median(r["value"] for r, _ in runs)
        err = max(abs(r["value"] - target) / abs(target) for r, _ in runs)
        conv = sum(r["converged"] for r, _ in runs)
        print(f"| {name} | {rule} | {hvps:g} | {secs:.3f} | {secs / hvps:.4f} | {value:.6g} | {err:.1e} | "
              f"{conv}/{args.repeats} |")


if __name__ == "__main__":
    main()
