"""K seeds of one configuration: K separate :func:`biocredit.train.train` runs vs one batched
:func:`biocredit.batched.train_group` run, side by side in one process, on the reach task's sizes.

    python benchmarks/bench_batched.py [--seeds 4 --updates 5 --rules bptt eprop --threads 1 --device cpu]

Each run is a whole training run (checkpoint evaluation and grad-cosine included) of ``--updates`` updates with the
authors' checkpoint schedule rescaled to that length; the reach task is built from smooth random "recordings" of
the real shape (8 conditions, 2 joint angles), so no data mirror is needed. The table gives the wall time of the K
separate runs, of the batched run, their ratio, and whether every seed's metrics and checkpoints came out bit-equal
(on a GPU expect ``close`` rather than ``equal``: cuBLAS rounds batched products its own way). Separate and batched
runs alternate ``--repeats`` times; medians are reported.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time


def _reach_task():
    import numpy as np

    from biocredit.tasks import ReachTask

    rng = np.random.default_rng(0)
    times = np.linspace(-800, 400, 121)
    angles = np.cumsum(rng.normal(size=(8, 2, 121)), axis=-1) / 20
    return ReachTask(angles, times, np.arange(8) * 45.0)


def _compare(a, b):
    import numpy as np
    import torch

    equal = all(np.array_equal(a.metrics[n].values, b.metrics[n].values, equal_nan=True) for n in a.metrics.data_vars)
    equal &= all(torch.equal(sa[k], sb[k]) for sa, sb in zip(a.states, b.states, strict=True) for k in sa)
    if equal:
        return "equal"
    close = all(np.allclose(a.metrics[n].values, b.metrics[n].values, rtol=1e-3, atol=1e-5, equal_nan=True)
                for n in a.metrics.data_vars)
    return "close" if close else "DIFFERENT"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=4, help="K, the number of seeds in the group")
    p.add_argument("--updates", type=int, default=5)
    p.add_argument("--n-hidden", type=int, default=200)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--rules", nargs="*", default=["bptt", "eprop"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from biocredit.batched import train_group
    from biocredit.learning import make_rule
    from biocredit.model import ModelConfig
    from biocredit.train import TrainConfig, checkpoint_schedule, train

    task = _reach_task()
    seeds = list(range(args.seeds))
    cfg = TrainConfig(n_updates=args.updates, batch_size=args.batch, n_test_trials=args.batch,
                      checkpoints=tuple(checkpoint_schedule(args.updates)))
    model = ModelConfig(task.n_in, args.n_hidden, task.n_out)
    dev = torch.device(args.device)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    print(f"machine: {platform.machine()} {platform.system()} | {os.cpu_count()} cores | torch {torch.__version__} "
          f"| {args.threads} thread(s) | device {args.device}")
    print(f"\nreach task, N={args.n_hidden}, batch {args.batch}, {task.n_steps} steps, {args.updates} updates, "
          f"{len(cfg.checkpoints)} checkpoints; K={args.seeds} seeds; median of {args.repeats}\n")
    print("| rule | K separate runs (s) | one batched run (s) | separate / batched | per-seed numbers |")
    print("|---|---|---|---|---|")
    for name in args.rules:
        rule = make_rule(name)
        t_sep, t_bat = [], []
        for _ in range(args.repeats):
            sync()
            t0 = time.perf_counter()
            separate = [train(task, model, rule, cfg, seed=s, device=args.device, progress=False) for s in seeds]
            sync()
            t_sep.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            group = train_group(task, model, rule, cfg, seeds, device=args.device)
            sync()
            t_bat.append(time.perf_counter() - t0)
        verdicts = {_compare(g, s) for g, s in zip(group, separate, strict=True)}
        sep, bat = statistics.median(t_sep), statistics.median(t_bat)
        print(f"| {name} | {sep:.2f} | {bat:.2f} | {sep / bat:.2f} | {', '.join(sorted(verdicts))} |")


if __name__ == "__main__":
    main()
