"""Run names and the run grids of both studies: what a run is called, which runs a config asks for, and the
config each run trains with. Plain dicts in and out (no torch, no files): the workflow plans with these and the
stages receive their results.

Study A (similarity)
--------------------
Every (task, arch, rule, seed) of ``similarity``: :func:`similarity_grid`, :func:`similarity_run_config`.

Study B (generalization)
------------------------
Run names (the ``rule`` wildcard): a run's rule is a learning rule's config name, optionally followed by
variants, each ``-<key><value>``:

- ``-w<k>``: truncation window ``k`` (steps) of ``tbptt`` (overrides ``rule_options.tbptt.window``);
- ``-lr<η>``: learning rate ``η`` (overrides the study's ``training.lr``), written in positional notation
  (``0.05``, never ``5e-2``).

E.g. ``bptt``, ``tbptt-w4``, ``eprop-lr0.05``, ``tbptt-w4-lr0.2``. The remedies of figures B5/B6 are such
variants: a learning-rate sweep (``<rule>-lr<η>``; the study's own lr gives the plain name, so those runs are the
main grid's) and the "gradient terms kept" axis e-prop → MDGL → ``tbptt-w<k>`` (increasing k) → BPTT.

Study B's training schedule: the authors evaluate at evenly spaced iterations (every 250 of 10k for BPTT, every 400 of
16k for their
three-factor rule: 40 points each) and train the three-factor rule 1.6× longer. Here ``n_checkpoints`` evenly
spaced evaluations plus the last update (:func:`evaluation_schedule`), and ``updates_factor`` multiplies a rule's
number of updates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

__all__ = [
    "STUDY_A",
    "STUDY_B",
    "PAPER_TASKS_B",
    "RULE_LABELS",
    "rule_label",
    "similarity_archs",
    "similarity_grid",
    "similarity_run_config",
    "equal_lr_runs",
    "parse_variant",
    "variant_name",
    "format_lr",
    "evaluation_schedule",
    "train_config",
    "groups_of",
    "run_config",
    "terms_axis",
    "arch_of",
    "base_lr",
    "grid",
]

STUDY_A = "similarity"
STUDY_B = "generalization"
#: study-B tasks that are the paper's (sequential MNIST); every other task is an extension of ours
PAPER_TASKS_B = ("smnist",)
_RULE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TOKEN_RE = re.compile(r"^(w)([0-9]+)$|^(lr)([0-9]+(?:\.[0-9]+)?)$")
#: the keys of a study's ``training`` section that are :class:`~biocredit.train.TrainConfig` fields
TRAINING_KEYS = ("n_updates", "lr", "optimizer", "batch_size", "n_test_trials", "activity_penalty", "adapt_penalty",
                 "penalty_decay", "grad_clip", "weight_decay", "n_eval_trials", "grad_cosine_every")
#: display names of the learning rules (figures, claims, scorecard); colours are in biocredit.figures.style
RULE_LABELS = {
    "bptt": "BPTT",
    "eprop": "e-prop",
    "eprop_random": "e-prop (random feedback)",
    "tbptt": "truncated BPTT",
    "rflo": "RFLO",
    "mdgl": "MDGL",
    "bptt_random": "BPTT (random feedback)",
    "modprop": "ModProp",
}


# ------------------------------------------------------------------------------------------------ study B: run names


def format_lr(lr: float) -> str:
    """``η`` in positional notation without trailing zeros (``0.05``, ``0.00001``): no ``-`` or ``e`` in names."""
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"learning rate must be a positive number, got {lr!r}")
    return np.format_float_positional(float(lr), trim="-")


def variant_name(rule: str, window: int | None = None, lr: float | None = None) -> str:
    """The run name of ``rule`` with an optional tBPTT ``window`` and learning rate (see the module docstring)."""
    if not _RULE_RE.match(rule):
        raise ValueError(f"bad rule name {rule!r}")
    name = rule
    if window is not None:
        if rule != "tbptt":
            raise ValueError(f"a window only applies to tbptt, not {rule!r}")
        name += f"-w{int(window)}"
    if lr is not None:
        name += f"-lr{format_lr(lr)}"
    return name


def parse_variant(name: str) -> dict:
    """``{"rule", "window", "lr", "options"}`` of a run name; ``options`` are the rule's keyword options.

    Raises ``ValueError`` for a malformed name, a repeated key, or a window on a rule other than tbptt.
    """
    rule, *tokens = name.split("-")
    if not _RULE_RE.match(rule):
        raise ValueError(f"bad run name {name!r}: it must start with a learning rule's name")
    out: dict = {"rule": rule, "window": None, "lr": None, "options": {}}
    for tok in tokens:
        m = _TOKEN_RE.match(tok)
        if not m:
            raise ValueError(f"bad variant {tok!r} in run name {name!r}; expected w<int> or lr<number>")
        key = m.group(1) or m.group(3)
        field = "window" if key == "w" else "lr"
        if out[field] is not None:
            raise ValueError(f"run name {name!r} repeats {key}")
        if key == "w":
            if rule != "tbptt":
                raise ValueError(f"run name {name!r}: a window applies to tbptt only")
            out["window"] = int(m.group(2))
            if out["window"] < 1:
                raise ValueError(f"run name {name!r}: window must be >= 1")
            out["options"]["window"] = out["window"]
        else:
            out["lr"] = float(m.group(4))
            if out["lr"] <= 0:
                raise ValueError(f"run name {name!r}: lr must be positive")
    return out


def evaluation_schedule(n_updates: int, n_checkpoints: int) -> list[int]:
    """``n_checkpoints`` evenly spaced evaluations ``round(k·n_updates/n_checkpoints)``, k = 0…n−1 (the authors'
    0, 250, …, 9750 for 10k updates and 40 points), plus the end of training, ``n_updates``."""
    if n_updates < 1 or n_checkpoints < 1:
        raise ValueError("n_updates and n_checkpoints must be positive")
    return sorted({int(round(k * n_updates / n_checkpoints)) for k in range(n_checkpoints)} | {int(n_updates)})


def _training(cfg: dict, task: str) -> dict:
    return dict(cfg["training"]) | dict(cfg.get("task_training", {}).get(task, {}))


def groups_of(cfg: dict) -> dict:
    """Study B's comparison groups, fixed in the config before any run (``groups``): ``reference`` (BPTT), ``bio``
    (the three-factor rules pooled in the claims, each also reported alone) and ``separate`` (every other main-grid
    run name, e.g. truncated BPTT and BPTT with random feedback: reported as its own row, pooled with nobody).
    Bio rules that the main grid does not train are left out (a smaller preset); raises ``ValueError`` naming the key
    when the reference is not trained or no bio rule is."""
    g = cfg.get("groups") or {}
    rules = list(cfg["rules"])
    ref = g.get("reference", rules[0])
    if ref not in rules:
        raise ValueError(f"generalization.groups.reference {ref!r} is not in generalization.rules {rules}")
    bio = [r for r in g.get("bio", rules[1:]) if r in rules]  # bio rules a (smaller) grid does not train: left out
    if ref in bio:
        raise ValueError(f"generalization.groups: the reference {ref!r} cannot also be in the bio group")
    if not bio:
        raise ValueError(f"generalization.groups.bio {g.get('bio')!r} names none of generalization.rules {rules}")
    return {"reference": ref, "bio": bio, "separate": [r for r in rules if r != ref and r not in bio]}


def train_config(cfg: dict, task: str, run: str) -> dict:
    """The :class:`~biocredit.train.TrainConfig` keywords of run ``run`` on ``task`` from the study's config
    section ``cfg``: ``training`` with the task's ``task_training`` overrides, the run name's lr, the rule's
    ``updates_factor`` and explicit checkpoints (:func:`evaluation_schedule`). Every run trains for its fixed
    budget (the authors' protocol: no early stop, every run kept)."""
    v = parse_variant(run)
    training = _training(cfg, task)
    n_checkpoints = int(training.pop("n_checkpoints"))
    factor = float(cfg.get("updates_factor", {}).get(v["rule"], 1.0))
    n_updates = max(1, int(round(training["n_updates"] * factor)))
    out = {k: v_ for k, v_ in training.items() if k in TRAINING_KEYS}
    if v["lr"] is not None:
        out["lr"] = v["lr"]
    out["n_updates"] = n_updates
    out["checkpoints"] = evaluation_schedule(n_updates, n_checkpoints)
    return out


def run_config(config: dict, task: str, arch: str, run: str) -> dict:
    """Everything that defines a study-B run besides its wildcards (the ``train`` rule's ``params.run``)."""
    v = parse_variant(run)
    return {
        "task_cfg": config["tasks"][task],
        "arch_cfg": config["archs"][arch],
        "train_cfg": train_config(config[STUDY_B], task, run),
        "rule_options": dict(config["rule_options"].get(v["rule"], {})) | v["options"],
        "rule": v["rule"],
    }


def base_lr(cfg: dict, task: str) -> float:
    """The study's learning rate on ``task`` (``training.lr`` with the task's override)."""
    return float(_training(cfg, task)["lr"])


def arch_of(cfg: dict, task: str) -> str:
    """The ``archs`` row of ``task`` (``task_arch`` override, else ``arch``)."""
    return cfg.get("task_arch", {}).get(task, cfg["arch"])


def terms_axis(windows: Sequence[int]) -> list[str]:
    """Run names ordered by how many terms of the exact gradient they keep: e-prop (none of the non-local ones),
    MDGL (one step of the partial learning signal), tBPTT with increasing windows, BPTT (all)."""
    return ["eprop", "mdgl", *[variant_name("tbptt", window=int(k)) for k in sorted(set(windows))], "bptt"]


def grid(cfg: dict, seed_offset: int = 0) -> list[dict]:
    """Every run of study B from the config section ``cfg``: dicts with ``task``, ``arch``, ``rule`` (run name),
    ``seed`` and the flags ``main`` (main grid), ``lr_sweep`` and ``terms`` (remedies), in a stable order without
    duplicates (a remedy run that is also a main-grid run appears once, with both flags). ``seed_offset`` (the
    workflow's top-level ``seed_offset``) is added to every configured seed, so the runs' seeds (and paths) are
    ``seed + seed_offset``."""
    if int(seed_offset) < 0:
        raise ValueError(f"seed_offset must be >= 0, got {seed_offset!r}")
    runs: dict[tuple, dict] = {}

    def add(task, name, seed, flag):
        arch = arch_of(cfg, task)
        seed = int(seed) + int(seed_offset)
        key = (task, arch, name, int(seed))
        row = runs.setdefault(key, {"task": task, "arch": arch, "rule": name, "seed": int(seed),
                                    "main": False, "lr_sweep": False, "terms": False})
        row[flag] = True

    for task in cfg["tasks"]:
        for r in cfg["rules"]:
            for seed in cfg["seeds"]:
                add(task, r, seed, "main")
    rem = cfg["remedies"]
    task = rem["task"]
    seeds = rem.get("seeds") or cfg["seeds"]
    lr0 = base_lr(cfg, task)
    for r in rem["lr_rules"]:
        for lr in rem["lrs"]:
            name = r if math.isclose(lr, lr0, rel_tol=1e-9) else variant_name(r, lr=lr)
            for seed in seeds:
                add(task, name, seed, "lr_sweep")
    for name in terms_axis(rem["windows"]):
        for seed in seeds:
            add(task, name, seed, "terms")
    return list(runs.values())


def rule_label(run: str) -> str:
    """The display name of a run name: the learning rule's label (:data:`RULE_LABELS`, the rule's own name where it
    has none), with its variants (``tBPTT (k=4)``, ``, η=0.05``)."""
    v = parse_variant(run)
    base = RULE_LABELS.get(v["rule"], v["rule"])
    if v["window"] is not None:
        base = f"tBPTT (k={v['window']})"
    if v["lr"] is not None:
        base += f", η={format_lr(v['lr'])}"
    return base


# ------------------------------------------------------------------------------------------------ study A


def similarity_run_config(config: dict, task: str, arch: str, rule: str) -> dict:
    """Everything that defines a study-A run besides its wildcards (the ``train`` rule's ``params.run``): the task's
    and arch's table rows, the study's ``training`` with the task's ``task_training`` and then the rule's
    ``rule_training`` overrides, and the rule's ``rule_options``. ``rule`` is a run name: a learning rule, or one with
    an ``-lr<η>`` variant (a sensitivity run, :func:`equal_lr_runs`), whose learning rate then replaces every
    override's; such a run also carries ``rule`` (the learning rule) and ``name`` (the run name, its label)."""
    s = config[STUDY_A]
    v = parse_variant(rule)
    train_cfg = (s["training"] | s.get("task_training", {}).get(task, {})
                 | s.get("rule_training", {}).get(v["rule"], {}))
    out = {
        "task_cfg": config["tasks"][task],
        "arch_cfg": config["archs"][arch],
        "train_cfg": train_cfg,
        "rule_options": config["rule_options"].get(v["rule"], {}),
    }
    if v["lr"] is not None:
        out["train_cfg"] = train_cfg | {"lr": v["lr"]}
        out |= {"rule": v["rule"], "name": rule}
    return out


def similarity_archs(cfg: dict, task: str) -> list[str]:
    """Study A's ``archs`` rows of ``task`` (``task_archs`` override, else ``archs``)."""
    return cfg.get("task_archs", {}).get(task, cfg["archs"])


def equal_lr_runs(cfg: dict, task: str) -> dict[str, str]:
    """Study A's equal-learning-rate sensitivity runs of ``task``: for each rule of ``rules`` whose
    ``rule_training`` gives it another learning rate than the study's (``training.lr`` with the task's override),
    the run name of that rule trained at the study's rate (``bptt-lr0.0003``), ``{rule: run name}``. Empty when
    ``equal_lr_check`` is off or no rule's rate differs. They train on the task's first arch row only; claims A2 and
    A3 get a sensitivity row from them."""
    if not cfg.get("equal_lr_check", False):
        return {}
    lr = float((dict(cfg["training"]) | dict(cfg.get("task_training", {}).get(task, {})))["lr"])
    out = {}
    for r in cfg["rules"]:
        own = cfg.get("rule_training", {}).get(r, {}).get("lr")
        if own is not None and not math.isclose(float(own), lr, rel_tol=1e-9):
            out[r] = variant_name(r, lr=lr)
    return out


def similarity_grid(cfg: dict, tasks: Sequence[str], seed_offset: int = 0, seeds: Sequence[int] | None = None
                    ) -> list[dict]:
    """Every run of study A on ``tasks`` (those whose recordings are available) from the config section ``cfg``:
    dicts with ``task``, ``arch``, ``rule`` (run name) and ``seed`` (configured seed + ``seed_offset``), in the
    order task, arch, rule, seed; the equal-learning-rate sensitivity runs (:func:`equal_lr_runs`) follow each
    task's first arch row. ``seeds`` replaces the configured seeds (the ``settle`` target's added seeds)."""
    if int(seed_offset) < 0:
        raise ValueError(f"seed_offset must be >= 0, got {seed_offset!r}")
    seeds = [int(s) + int(seed_offset) for s in (cfg["seeds"] if seeds is None else seeds)]
    out = []
    for task in tasks:
        archs = similarity_archs(cfg, task)
        for arch in archs:
            out += [{"task": task, "arch": arch, "rule": r, "seed": seed} for r in cfg["rules"] for seed in seeds]
            if arch == archs[0]:
                out += [{"task": task, "arch": arch, "rule": name, "seed": seed}
                        for name in equal_lr_runs(cfg, task).values() for seed in seeds]
    return out
