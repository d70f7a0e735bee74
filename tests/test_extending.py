"""docs/extending.md cannot go stale: its toy learning rule is taken from the page, checked against an explicit
eligibility-trace oracle, then registered and configured exactly as the page says in a copy of the repository and run
through the workflow (training in both studies, the similarity jobs, study B's Hessians) to the rule scorecard."""

from __future__ import annotations

import csv
import importlib.util
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests import reference_rnn as ref
from tests.conftest import REPO
from tests.slurm.smoke import copy_working_tree, workflow_env

DOC = REPO / "docs" / "extending.md"
BLOCK = re.compile(r"<!-- extending:(?P<kind>[\w-]+) (?P<path>\S+) -->\s*```\w*\n(?P<code>.*?)```", re.S)
LAM = 0.3


def doc_blocks() -> dict[str, tuple[str, str]]:
    """The page's marked code blocks: kind -> (path it belongs to, code)."""
    found = {m["kind"]: (m["path"], m["code"]) for m in BLOCK.finditer(DOC.read_text())}
    expected = {"rule-file", "rule-register", "rule-schema", "rule-config"}
    assert expected <= set(found), f"docs/extending.md lacks the marked blocks {sorted(expected - set(found))}"
    return found


def toy_rule_class(tmp_path: Path):
    """The rule class defined by the page's rule-file block, imported from a file of that code."""
    path, code = doc_blocks()["rule-file"]
    module_file = tmp_path / Path(path).name
    module_file.write_text(code)
    spec = importlib.util.spec_from_file_location("extending_toy_rule", module_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from biocredit.learning.base import LearningRule

    classes = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, LearningRule)
               and v is not LearningRule]
    assert len(classes) == 1, f"the rule-file block should define one LearningRule subclass, found {classes}"
    return classes[0]


def _tiny(seed=0, steps=10):
    """The small float64 net of the rule tests (non-zero biases and initial state, a loss mask)."""
    from tests.test_rules import _tiny as tiny_net

    return tiny_net(seed=seed, steps=steps)


def _grads(model, x, target, mask, rule, fused):
    model.zero_grad()
    y, h = model(x, rule, fused=fused)
    m = mask.unsqueeze(-1)
    loss = ((y - target) ** 2 * m).sum() / (m.sum() * y.shape[-1]) + LAM * (h**2).mean()
    loss.backward()
    return {k: p.grad.detach().numpy().copy() for k, p in model.named_parameters()}


def _explicit(model, x, target, mask, cut):
    """Explicit oracle for any cut schedule: the learning signal with W_rec's path removed at the cut steps
    (tests/reference_rnn.py) × eligibility traces, plus a0's extra path when step 0 is not cut."""
    p = {k: v.detach().numpy().copy() for k, v in model.named_parameters()}
    p["alpha"] = model.alpha
    xs, ts, ms = x.numpy(), target.numpy(), mask.numpy()
    _, a, h, h_prev, dy, dh_partial = ref.loss_and_partials(p, xs, ts, ms, LAM)
    signal, delta_first = ref.cut_learning_signal(p, a, dh_partial, cut)
    g = ref.trace_gradients(p, xs, a, h_prev, signal)
    if not cut[0]:
        g["a0"] = g["a0"] + (p["alpha"] * delta_first @ p["w_rec"] * ref.retanh_grad(p["a0"])).sum(0)
    g["w_out"] = np.einsum("bto,btn->on", dy, h)
    g["b_out"] = dy.sum((0, 1))
    return g


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.5, 1.0])
def test_toy_rule_matches_the_explicit_oracle(tmp_path, fused, fraction):
    rule = toy_rule_class(tmp_path)(fraction=fraction)
    model, x, target, mask = _tiny()
    steps = x.shape[1]
    cut = [t < steps * (1 - fraction) for t in range(steps)]  # the page's definition, in the oracle's terms
    got = _grads(model, x, target, mask, rule, fused)
    want = _explicit(model, x, target, mask, cut)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-12, err_msg=k)


def test_toy_rule_limits_are_bptt_and_eprop(tmp_path):
    from biocredit.learning import BPTT, EProp

    cls = toy_rule_class(tmp_path)
    model, x, target, mask = _tiny(seed=1)
    for rule, same in ((cls(fraction=1.0), BPTT()), (cls(fraction=0.0), EProp())):
        got, want = _grads(model, x, target, mask, rule, True), _grads(model, x, target, mask, same, True)
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-14, err_msg=f"{rule} vs {same}: {k}")
    half = _grads(model, x, target, mask, cls(fraction=0.5), True)
    assert not np.allclose(half["w_rec"], _grads(model, x, target, mask, BPTT(), True)["w_rec"])
    with pytest.raises(ValueError, match="1.5"):
        cls(fraction=1.5)


def apply_rule_blocks(repo: Path) -> str:
    """Apply the page's rule steps to the repository copy ``repo``; returns the rule's config name."""
    blocks = doc_blocks()
    path, code = blocks["rule-file"]
    (repo / path).write_text(code)
    path, code = blocks["rule-register"]
    with open(repo / path, "a") as f:
        f.write("\n\n" + code)
    name = re.search(r'name = "(\w+)"', blocks["rule-file"][1]).group(1)
    # step 3 of the page: the name joins every list of rule names in the schema (the enums and study B's pattern)
    schema = repo / "rules/schemas/config.schema.yaml"
    text = schema.read_text()
    text, n_enum = re.subn(r"enum: \[bptt, ", f"enum: [bptt, {name}, ", text)
    text, n_pattern = re.subn(r'pattern: "\^\(bptt\|', f'pattern: "^(bptt|{name}|', text)
    assert n_enum >= 2 and n_pattern == 1, "the schema's lists of rule names are not where docs/extending.md says"
    # ... and its options' entry goes under rule_options.properties
    anchor = re.search(r"\n  rule_options:\n(?:    .*\n)*?    properties:\n", text)
    assert anchor, "the schema has no rule_options.properties where docs/extending.md says"
    text = text[:anchor.end()] + blocks["rule-schema"][1] + text[anchor.end():]
    schema.write_text(text)
    return name


TINY = """
similarity:
  tasks: [reach]
  archs: [base]
  seeds: [1, 2]
  n_split_half: 2
  training: {n_updates: 8, batch_size: 8, n_test_trials: 8}
tasks:
  sdigits: {n_train: 40, n_validation: 16, n_test: 40}
generalization:
  training: {n_updates: 8, n_checkpoints: 2, batch_size: 8, n_test_trials: 16}
  curvature: {n_checkpoints: 1, max_hvp: 6, trace_samples: 2, density_iter: 4, density_vectors: 1}
  remedies: {task: decision, lr_rules: [bptt], lrs: [0.05, 0.1], windows: [], seeds: [1]}  # not built for the scorecard
"""


@pytest.mark.slow
def test_toy_rule_runs_through_the_workflow_to_the_scorecard(tmp_path, mirror):
    repo = tmp_path / "repo"
    copy_working_tree(repo)
    name = apply_rule_blocks(repo)
    config_path, config_text = doc_blocks()["rule-config"]
    (repo / config_path).write_text(config_text)
    (repo / "tiny.yaml").write_text(TINY)
    configs = ["config.yaml", "tests/smoke/config.yaml", config_path, "tiny.yaml"]
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", *configs, "--", "results/scorecard.csv"],
        cwd=repo, env=workflow_env(mirror, repo), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    # the rule trained in both studies and had its similarity measured
    assert (repo / f"results/similarity/runs/similarity/reach/base/{name}/seed1/procrustes.nc").is_file()
    assert (repo / f"results/curvature/generalization/sdigits/b_relu/{name}/seed2/hessian.nc").is_file()
    rows = {r["rule"]: r for r in csv.DictReader((repo / "results/scorecard.csv").open())}
    assert list(rows) == yaml.safe_load(config_text)["similarity"]["rules"]
    toy = rows[name]
    for key in ("accuracy_a", "accuracy_b", "lambda_max_b", "trace_b", "grad_cosine", "seconds_per_update"):
        assert toy[key] != "" and math.isfinite(float(toy[key])), (key, toy)
    assert toy["grad_cosine_n"] == "2" and -1 <= float(toy["grad_cosine"]) < 1  # not BPTT: cosine below 1
    assert float(rows["bptt"]["grad_cosine"]) == pytest.approx(1.0)
