"""Time one training step (forward, loss, backward) per learning rule: the fused core vs a plain per-step
PyTorch loop of the same model (the naive reference), on the reach task's and sequential MNIST's sizes; and the
similarity metrics at the Mante size.

    python benchmarks/bench_train.py [--threads 1 --repeats 5 --quick]

Prints the machine, threads and repeats, then markdown tables of medians. Every ratio compares numbers measured
side by side in the same process. Peak memory is each configuration's own process's maximum RSS (measured by
running it in a fresh subprocess).
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
    # name: (n_in, n_hidden, n_out, batch, steps, activation, tau)
    "reach": (3, 200, 2, 100, 300, "retanh", 10.0),
    "smnist": (28, 128, 10, 256, 28, "relu", 1.0),
}


def _loss(name, y, h, target):
    """Each task's training loss: reach, MSE on every step plus study A's activity penalty; sMNIST, softmax
    cross-entropy at the last step and no penalty (Liu et al. 2022)."""
    import torch

    if name == "smnist":
        return torch.nn.functional.cross_entropy(y[:, -1], target)
    return ((y - target) ** 2).mean() + 10 * (h**2).mean()


def _step_time(name, model, x, target, rule, fused, repeats):
    times = []
    for _ in range(repeats + 1):  # the first call warms up allocations
        t0 = time.perf_counter()
        model.zero_grad()
        y, h = model(x, rule, fused=fused)
        _loss(name, y, h, target).backward()
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])


def _core_time(model, x, rule, fused, repeats):
    """The recurrence alone (forward and backward with a fixed upstream gradient): what the fused core replaces."""
    import torch

    from biocredit.model import recurrence

    drive = torch.nn.functional.linear(x.transpose(0, 1), model.w_in, model.b).transpose(0, 1).detach()
    drive.requires_grad_(True)
    grad = torch.ones_like(drive)
    cut = [rule.cuts_recurrence(t, x.shape[1]) for t in range(x.shape[1])]
    times = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        model.zero_grad()
        h = recurrence(drive, model.a0, model.w_rec, model.alpha, model.config.activation, cut, fused=fused,
                       one_step=rule.one_step_credit)
        h.backward(grad)
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])


def run_config(name: str, rules: list[str], repeats: int, threads: int) -> dict:
    import torch

    from biocredit.model import ModelConfig, RateRNN
    from biocredit.rules import make_rule

    torch.set_num_threads(threads)
    n_in, n, n_out, batch, steps, act, tau = CONFIGS[name]
    gen = torch.Generator().manual_seed(0)
    model = RateRNN(ModelConfig(n_in, n, n_out, tau=tau, activation=act), generator=gen)
    x = torch.rand(batch, steps, n_in, generator=gen)
    if name == "smnist":
        target = torch.randint(n_out, (batch,), generator=gen)
    else:
        target = torch.rand(batch, steps, n_out, generator=gen)
    out = {}
    for r in rules:
        rule = make_rule(r)
        out[r] = {"fused": _step_time(name, model, x, target, rule, True, repeats),
                  "naive": _step_time(name, model, x, target, rule, False, repeats),
                  "core_fused": _core_time(model, x, rule, True, repeats),
                  "core_naive": _core_time(model, x, rule, False, repeats)}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def similarity_times(repeats: int) -> dict:
    import numpy as np

    from biocredit.similarity import cca_distance, cka_distance, procrustes_distance

    rng = np.random.default_rng(0)
    x, y = rng.random((3600, 400)), rng.random((3600, 727))  # Mante: 72 conditions x 50 bins; N=400 vs 727 units
    out = {}
    for name, f in (("procrustes", procrustes_distance), ("cka", cka_distance), ("cca (20 PCs)", cca_distance)):
        f(x, y)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            f(x, y)
            times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--rules", nargs="*", default=["bptt", "tbptt", "eprop", "eprop_random", "rflo", "mdgl"])
    p.add_argument("--configs", nargs="*", default=list(CONFIGS))
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
    for name in args.configs:
        cmd = [sys.executable, __file__, "--worker", name, "--threads", str(args.threads), "--repeats",
               str(args.repeats), "--rules", *args.rules]
        res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        n_in, n, n_out, batch, steps, act, tau = CONFIGS[name]
        print(f"\n### {name}: N={n}, batch {batch}, {steps} steps, {act}, tau={tau:g} "
              f"(peak RSS of the process {res['peak_rss_mb']:.0f} MB)\n")
        print("| rule | fused step (s) | naive per-step loop (s) | naive / fused | fused / BPTT fused "
              "| recurrence only: fused (s) | naive (s) | naive / fused |")
        print("|---|---|---|---|---|---|---|---|")
        base = res[args.rules[0]]["fused"]
        for r in args.rules:
            f, nv, cf, cn = (res[r][k] for k in ("fused", "naive", "core_fused", "core_naive"))
            print(f"| {r} | {f:.4f} | {nv:.4f} | {nv / f:.2f} | {f / base:.2f} | {cf:.4f} | {cn:.4f} | {cn / cf:.2f} |")
    print("\n### similarity metrics at the Mante size (3600 samples; 400 model units vs 727 recorded)\n")
    print("| metric | seconds |")
    print("|---|---|")
    for k, v in similarity_times(args.repeats).items():
        print(f"| {k} | {v:.4f} |")


if __name__ == "__main__":
    main()
