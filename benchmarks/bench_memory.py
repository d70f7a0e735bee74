"""Peak memory of one paper-scale reach run under each heap policy of ``biocredit._memory.keep_freed_memory``.

    python benchmarks/bench_memory.py [--n-updates 300 --every 5 --rule bptt --limits-mb 1024 64 0]

Each policy runs in its own fresh process (a heap policy cannot be undone in a process): the paper preset's reach
run (N=200, batch 100, 1000 test trials evaluated at once, resume state every 50 updates) with a checkpoint every
``--every`` updates, on bench_run's synthetic reach task. Limit 0 = glibc's own policy (keep_freed_memory not
applied). Prints peak resident memory (sampled every 50 ms) and the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

_CHILD = """
import json, sys, tempfile, threading, time
from pathlib import Path
import torch
sys.path.insert(0, {bench!r})
from bench_run import _reach_task
from biocredit import _memory
from biocredit.learning import make_rule
from biocredit.model import ModelConfig
from biocredit.train import TrainConfig, train
limit, n, every, rule = {limit}, {n}, {every}, {rule!r}
if limit:
    _memory.keep_freed_memory(limit << 20)
else:
    _memory._done = True  # train() then leaves glibc's policy as it is
torch.set_num_threads(1)
peak = [0]
def watch():
    while True:
        with open("/proc/self/status") as f:
            peak[0] = max(peak[0], next(int(l.split()[1]) for l in f if l.startswith("VmRSS")))
        time.sleep(0.05)
threading.Thread(target=watch, daemon=True).start()
task = _reach_task()
cfg = TrainConfig(n_updates=n, lr=3e-4, batch_size=100, n_test_trials=1000, checkpoints=tuple(range(0, n + 1, every)))
t0 = time.perf_counter()
with tempfile.TemporaryDirectory() as tmp:
    train(task, ModelConfig(task.n_in, 200, task.n_out, tau=10.0, activation="retanh"), make_rule(rule), cfg, seed=1,
          device="cpu", progress=False, resume_path=Path(tmp) / "resume.pt", resume_every=50)
print(json.dumps({{"peak_mb": peak[0] // 1024, "seconds": time.perf_counter() - t0}}))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n-updates", type=int, default=300)
    p.add_argument("--every", type=int, default=5)
    p.add_argument("--rule", default="bptt")
    p.add_argument("--limits-mb", type=int, nargs="+", default=[1024, 64, 0])
    a = p.parse_args()
    bench = str(Path(__file__).resolve().parent)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    print(f"reach N=200, batch 100, 1000 test trials, {a.rule}, {a.n_updates} updates, checkpoint every {a.every}, "
          "1 thread, one fresh process per row\n")
    print("| heap policy | peak RSS (MB) | wall (s) |\n|---|---|---|")
    for limit in a.limits_mb:
        code = _CHILD.format(bench=bench, limit=limit, n=a.n_updates, every=a.every, rule=a.rule)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        name = f"blocks up to {limit} MB kept" if limit else "glibc default"
        print(f"| {name} | {row['peak_mb']} | {row['seconds']:.0f} |")


if __name__ == "__main__":
    main()
