"""The report's captions (rules/report/*.rst) state settings from the config they are rendered with, never a
number written into the text: each caption renders under every preset with undefined names refused, and the
settings a caption names read back as the config has them."""

from __future__ import annotations

import re
from types import SimpleNamespace

import jinja2
import pytest

from tests.conftest import REPO, merged_config

CAPTIONS = sorted((REPO / "rules" / "report").glob("*.rst"))
PRESETS = {
    "default": (),
    "smoke": ("tests/smoke/config.yaml",),
    "paper": ("presets/paper.yaml",),
    "paper-slice-b": ("presets/paper.yaml", "presets/paper-slice-b.yaml"),
}


def render(path, config, **wildcards) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    wc = {"task": "smnist", "dataset": "hatsopoulos2007"} | wildcards
    snakemake = SimpleNamespace(config=config, wildcards=SimpleNamespace(**wc))
    text = env.from_string(path.read_text()).render(snakemake=snakemake, files=[])  # files: workflow.rst's list
    return " ".join(text.split())


@pytest.fixture(scope="module", params=sorted(PRESETS))
def config(request):
    return request.param, merged_config(*PRESETS[request.param])


def test_every_caption_renders_under_every_preset(config):
    name, cfg = config
    assert CAPTIONS
    for path in CAPTIONS:
        text = render(path, cfg)
        assert "{{" not in text and "{%" not in text, f"{path.name} ({name}): unrendered template"


def test_captions_state_the_settings_of_their_config(config):
    name, cfg = config
    sim, gen = cfg["similarity"], cfg["generalization"]
    a7 = render(REPO / "rules/report/fig_a7.rst", cfg)
    assert f"over {sim['n_split_half']} random splits" in a7, name
    a2 = render(REPO / "rules/report/fig_a2.rst", cfg)
    assert f"±{sim['equivalence_margin']}" in a2, name
    b3 = render(REPO / "rules/report/fig_b3.rst", cfg)
    validation = gen["curvature"]["batch"] == "validation"
    assert ("validation batch" in b3) == validation and ("training-set" in b3) != validation, name
    assert ", ".join(gen["groups"]["bio"]) in b3, name
    assert f"ln-ratio {gen['claims']['sesoi_log_ratio']}" in b3, name
    card = render(REPO / "rules/report/scorecard.rst", cfg)
    k_a, k_b = (s["training"].get("grad_cosine_every", 1) for s in (sim, gen))
    assert f"k = {k_a} in study A and k = {k_b} in study B" in card, name
    assert f"every k-th evaluation (k = {k_b}," in render(REPO / "rules/report/fig_b7.rst", cfg), name


def test_no_caption_writes_a_config_setting_as_a_literal():
    """A caption that wrote e.g. '100 random splits' into its text would go stale when the setting changes: every
    number followed by a word naming a configured quantity must come from a template."""
    counted = re.compile(r"(?<![\w.{])\d+(\.\d+)?\s+(random splits|seeds|updates|units|trials|hidden units)\b")
    for path in CAPTIONS:
        found = counted.findall(re.sub(r"\{\{.*?\}\}", " ", path.read_text(), flags=re.S))
        assert not found, f"{path.name} states a configured quantity as a literal: {found}"
