"""Cost of training study B to a criterion: default study-B jobs before (fixed update count) and after (stop at the
task's criterion, cap ``cap_factor`` × the plain count), side by side in one process.

    python benchmarks/bench_study_b_criterion.py [--config config.yaml] [--seed 1] [--threads 1]
        [--cases sdigits:bptt sdigits:eprop pattern:bptt decision:rflo]

Each case trains the default preset's run (schema defaults filled in, as the workflow does) twice: without the
``generalization.criterion`` section ("before") and with it ("after"). Prints the machine and threads, then a markdown
table: updates (cap), the update where the run ended, whether it reached the criterion, its best training-set
accuracy, and CPU and wall seconds.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import time

import numpy as np
import torch
import yaml


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cases", nargs="+", default=["sdigits:bptt", "sdigits:eprop", "pattern:bptt", "decision:rflo"])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from snakemake.utils import validate

    from biocredit import runs
    from biocredit.learning import make_rule
    from biocredit.learning import rule_options as accepted_options
    from biocredit.model import model_config
    from biocredit.tasks import load_task
    from biocredit.train import make_train_config, train

    cfg = yaml.safe_load(open(args.config))
    validate(cfg, "rules/schemas/config.schema.yaml")  # fills the schema's defaults
    print(f"{platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{args.threads} thread(s), seed {args.seed}, criterion {cfg['generalization'].get('criterion')}\n")
    print("| task | rule | protocol | cap | ended at | reached | best train acc | CPU s | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for case in args.cases:
        task, rule = case.split(":")
        for proto in ("before", "after"):
            c = copy.deepcopy(cfg)
            if proto == "before":
                c["generalization"].pop("criterion", None)
            run = runs.run_config(c, task, runs.arch_of(c["generalization"], task), rule)
            t = load_task(task, run["task_cfg"], None)
            tc = make_train_config(run["train_cfg"])
            model = model_config(t, run["arch_cfg"], args.seed)
            c0, w0 = time.process_time(), time.perf_counter()
            options = dict(run["rule_options"])
            if "seed" in accepted_options(run["rule"]):
                options.setdefault("seed", args.seed)  # as biocredit.stages.train.train_run
            res = train(t, model, make_rule(run["rule"], **options), tc, args.seed, "cpu", False)
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            a = res.metrics.attrs
            print(f"| {task} | {rule} | {proto} | {tc.n_updates} | {a['stopped_at']} | {a['reached_criterion']} | "
                  f"{np.nanmax(res.metrics.train_set_accuracy.values):.3f} | {cpu:.1f} | {wall:.1f} |", flush=True)


if __name__ == "__main__":
    main()
