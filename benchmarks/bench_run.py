"""Where the time of one whole training run goes: the training updates vs evaluation at checkpoints, the exact
gradient for the ``grad_cosine`` metric, resume-state writes, and the final checkpoint and metrics files.

    python benchmarks/bench_run.py [--sizes 100 200 --rules bptt eprop --n-updates 500 --threads 1]

Each run is what the workflow's ``train`` job does for the default preset's reach task (``config.yaml``:
``similarity.training``: 500 updates, batch 100, 200 test trials, the authors' checkpoint schedule, resume state
every 50 updates), on a reach task of the real shape (300 steps, 2 outputs) built from synthetic joint angles so
that no data download is needed. The phases are timed inside one run by wrapping the training loop's own helpers:

- **evaluation**: the no-grad forward passes on the fixed test batch at each checkpoint (loss, accuracy);
- **grad_cosine**: the extra exact (BPTT) forward and backward at each checkpoint of a non-BPTT rule;
- **resume writes**: ``_save_resume`` every ``resume_every`` updates;
- **final writes**: ``save_checkpoints`` and the metrics NetCDF;
- **updates**: the rule's own forward and backward of every update; **other**: the rest (batch sampling, Adam,
  per-update metrics, checkpoint state copies, Python).

Overhead = evaluation + grad_cosine + resume writes + final writes, as a share of the whole run. One-time costs of
a fresh process (imports, including the lazy ones behind the first optimiser) are paid before the first run and
not counted.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path


def _reach_task(n_steps: int = 300):
    import numpy as np

    from biocredit.tasks import ReachTask

    rng = np.random.default_rng(0)
    times = np.linspace(-800, 400, 121)
    angles = np.cumsum(rng.normal(size=(8, 2, 121)), axis=-1) / 20
    return ReachTask(angles, times, np.arange(8) * 45.0, n_steps=n_steps)


@contextmanager
def _phase_timers(clock: dict):
    """Wrap biocredit.train's helpers so that each phase's time accumulates in ``clock`` (seconds)."""
    import torch

    from biocredit import train as tr
    from biocredit.learning import BPTT

    saved = {"_loss_terms": tr._loss_terms, "_save_resume": tr._save_resume, "backward": torch.Tensor.backward,
             "outputs": tr.OneNetwork.outputs}
    state = {"phase": "updates"}

    def loss_terms(model, task, batch, rule, penalty, weight_decay=0.0):
        t0 = time.perf_counter()
        if isinstance(rule, BPTT) and state["rule"] != "bptt":
            phase = "grad_cosine"
        else:
            phase = "updates"
        state["phase"] = phase
        out = saved["_loss_terms"](model, task, batch, rule, penalty, weight_decay)
        clock[phase] += time.perf_counter() - t0
        return out

    def backward(self, *args, **kwargs):
        t0 = time.perf_counter()
        out = saved["backward"](self, *args, **kwargs)
        clock[state["phase"]] += time.perf_counter() - t0
        state["phase"] = "updates"
        return out

    def outputs(self, *args, **kwargs):  # the no-grad forward passes at each checkpoint
        t0 = time.perf_counter()
        out = saved["outputs"](self, *args, **kwargs)
        clock["evaluation"] += time.perf_counter() - t0
        return out

    def save_resume(*args, **kwargs):
        t0 = time.perf_counter()
        saved["_save_resume"](*args, **kwargs)
        clock["resume writes"] += time.perf_counter() - t0

    tr._loss_terms, tr._save_resume, torch.Tensor.backward = loss_terms, save_resume, backward
    tr.OneNetwork.outputs = outputs
    try:
        yield state
    finally:
        tr._loss_terms, tr._save_resume = saved["_loss_terms"], saved["_save_resume"]
        tr.OneNetwork.outputs = saved["outputs"]
        torch.Tensor.backward = saved["backward"]


def one_run(n_hidden: int, rule_name: str, n_updates: int, threads: int) -> dict:
    import torch

    from biocredit.io import write_netcdf
    from biocredit.learning import make_rule
    from biocredit.model import ModelConfig
    from biocredit.train import TrainConfig, checkpoint_schedule, save_checkpoints, train

    torch.set_num_threads(threads)
    task = _reach_task()
    model_cfg = ModelConfig(task.n_in, n_hidden, task.n_out, tau=10.0, activation="retanh")
    cfg = TrainConfig(n_updates=n_updates, lr=1e-3, batch_size=100, n_test_trials=200,
                      checkpoints=tuple(checkpoint_schedule(n_updates)))
    rule = make_rule(rule_name, **({"seed": 1} if rule_name in ("eprop_random", "rflo") else {}))
    clock: dict = defaultdict(float)
    with tempfile.TemporaryDirectory() as tmp, _phase_timers(clock) as state:
        state["rule"] = rule_name
        t0 = time.perf_counter()
        result = train(task, model_cfg, rule, cfg, seed=1, device="cpu", progress=False,
                       resume_path=Path(tmp) / "resume.pt", resume_every=50)
        t1 = time.perf_counter()
        save_checkpoints(result, Path(tmp) / "checkpoints.pt")
        write_netcdf(result.metrics, Path(tmp) / "metrics.nc")
        t2 = time.perf_counter()
    clock["final writes"] = t2 - t1
    total = t2 - t0
    clock["other"] = total - sum(v for k, v in clock.items())
    return {"total": total, "n_checkpoints": len(cfg.checkpoints), **{k: clock.get(k, 0.0) for k in PHASES}}


PHASES = ["updates", "other", "evaluation", "grad_cosine", "resume writes", "final writes"]
OVERHEAD = ["evaluation", "grad_cosine", "resume writes", "final writes"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[100, 200])
    p.add_argument("--rules", nargs="*", default=["bptt", "eprop"])
    p.add_argument("--n-updates", type=int, default=500)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    import torch

    # one-time costs of a fresh process (lazy imports behind the first optimiser, ~3-15 s here) are not a run's
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    print(f"machine: {platform.machine()} {platform.system()} {platform.release()} | {os.cpu_count()} cores | "
          f"torch {torch.__version__} | threads {args.threads} | 1 run each | load average "
          f"{os.getloadavg()[0]:.2f} at start | {time.strftime('%Y-%m-%d %H:%M')}\n")
    print("| N | rule | updates | checkpoints | run (s) | " + " | ".join(f"{k} (s)" for k in PHASES)
          + " | overhead |")
    print("|---|---|---|---|---|" + "---|" * len(PHASES) + "---|")
    for n in args.sizes:
        for r in args.rules:
            res = one_run(n, r, args.n_updates, args.threads)
            over = sum(res[k] for k in OVERHEAD) / res["total"]
            print(f"| {n} | {r} | {args.n_updates} | {res['n_checkpoints']} | {res['total']:.1f} | "
                  + " | ".join(f"{res[k]:.2f}" for k in PHASES) + f" | {100 * over:.1f} % |", flush=True)


if __name__ == "__main__":
    main()
