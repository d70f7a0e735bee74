"""Time one training step (forward, loss, backward) per learning rule, fused core vs the reference autograd loop.

    python benchmarks/bench_train.py [--n-hidden 200 --batch 100 --steps 300 --threads 1 --repeats 5]

Prints the machine, thread count and repeats, then a markdown table of medians. Ratios are measured side by side
in the same process.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from biocredit.model import ModelConfig, RateRNN
from biocredit.rules import RULES, make_rule


def step_time(model, x, target, rule, fused, repeats):
    times = []
    for _ in range(repeats + 1):  # the first call warms up allocations
        t0 = time.perf_counter()
        model.zero_grad()
        y, h = model(x, rule, fused=fused)
        loss = ((y - target) ** 2).mean() + 10 * (h**2).mean()
        loss.backward()
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-hidden", type=int, default=200)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--n-in", type=int, default=3)
    p.add_argument("--n-out", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--rules", nargs="*", default=sorted(RULES))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    model = RateRNN(ModelConfig(args.n_in, args.n_hidden, args.n_out), generator=gen)
    x = torch.rand(args.batch, args.steps, args.n_in, generator=gen)
    target = torch.rand(args.batch, args.steps, args.n_out, generator=gen)
    print(f"machine: {platform.machine()} {platform.processor() or ''} {platform.system()} | torch {torch.__version__}"
          f" | threads {args.threads} | repeats {args.repeats} (median) | N={args.n_hidden} batch={args.batch} "
          f"T={args.steps} | {time.strftime('%Y-%m-%d')}")
    print()
    print("| rule | fused step (s) | reference loop step (s) | reference / fused | fused / BPTT fused |")
    print("|---|---|---|---|---|")
    rows = {}
    for name in args.rules:
        rule = make_rule(name)
        rows[name] = (step_time(model, x, target, rule, True, args.repeats),
                      step_time(model, x, target, rule, False, args.repeats))
    base = rows.get("bptt", next(iter(rows.values())))[0]
    for name, (fused, ref) in rows.items():
        print(f"| {name} | {fused:.4f} | {ref:.4f} | {ref / fused:.2f} | {fused / base:.2f} |")


if __name__ == "__main__":
    main()
