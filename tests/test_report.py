"""`snakemake --report` on the smoke results: one self-contained HTML with the figures, their captions and the claims
table."""

from __future__ import annotations

import base64
import html
import json
import re
import sys

import pytest

from tests.slurm.smoke import SMOKE_CONFIGFILES, mirror_or_skip, run, smoke_repo, timed, workflow_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    basetemp, mirror = tmp_path_factory.getbasetemp(), mirror_or_skip()
    repo = smoke_repo(basetemp, mirror)
    out = repo / "results" / "report.html"
    with timed("snakemake --report", basetemp):
        run([sys.executable, "-m", "snakemake", "--configfile", *SMOKE_CONFIGFILES.split(), "--report", out], repo,
            workflow_env(mirror, repo), basetemp / "report.log")
    return repo, out.read_text()


def plain(text: str) -> str:
    """Words only: tags, JSON escapes and RST/Jinja markup removed, whitespace collapsed."""
    text = text.replace("\\n", " ").replace('\\"', '"')
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\{\{.*?\}\}|\*\*|``", " ", html.unescape(text))
    return " ".join(text.split())


def embedded(page: str, mime: str, filename: str) -> bytes:
    """The bytes of a file the report embeds as a data URI."""
    uri = re.search(rf"data:{re.escape(mime)};charset=utf8;filename={re.escape(filename)};base64,([A-Za-z0-9+/=]+)",
                    page)
    assert uri, f"{filename} is not embedded in the report"
    return base64.b64decode(uri.group(1))


def test_report_has_the_a2_figure_and_its_caption(report):
    repo, page = report
    png = embedded(page, "image/png", "A2_hatsopoulos2007.png")
    assert png == (repo / "results/figures/A/A2_hatsopoulos2007.png").read_bytes()
    caption = (repo / "rules/report/fig_a2.rst").read_text()
    page_words = plain(page)
    assert "Figure A2 (hatsopoulos2007)." in page_words  # the caption's template was filled in
    sentences = [plain(s) for s in re.split(r"(?<=\.)\s+", caption) if len(s) > 40 and "{{" not in s]
    assert sentences, "fig_a2.rst has no plain sentence to look for"
    missing = [s for s in sentences if s not in page_words]
    assert not missing, f"caption sentences missing from the report: {missing}"


def test_report_embeds_the_claims_table(report):
    repo, page = report
    claims = json.loads(embedded(page, "application/json", "claims.json"))
    assert claims == json.loads((repo / "results/claims.json").read_text())
    assert {"A2-hatsopoulos2007", "A3-hatsopoulos2007"} <= {row["id"] for row in claims}
    assert "The claims table: one row per claim" in plain(page)  # its caption (rules/report/claims.rst)


def test_make_report_reuses_the_preset_of_the_results(report, tmp_path):
    """`make report` after a smoke run (here `dvc repro` of the smoke preset) reports on the smoke results: the run
    recorded its config files in results/configfiles.txt and the report target passes them on (issue 13)."""
    from tests.slurm.smoke import BIN

    repo, _ = report
    assert (repo / "results/configfiles.txt").read_text().split() == SMOKE_CONFIGFILES.split()
    out = repo / "results/report.html"
    out.unlink()
    # -o: the venv exists already (this one), so `setup` must not build another
    run(["make", "-o", f"{BIN}/.installed", f"BIN={BIN}", "report"], repo, workflow_env(mirror_or_skip(), repo),
        tmp_path / "make-report.log")
    assert "A2_hatsopoulos2007.png" in out.read_text()


def test_report_landing_page_shows_scorecard_claims_and_datasets(report):
    """The landing page (rules/report/workflow.rst + results/report/landing.rst) reads like a results section."""
    repo, page = report
    words = plain(page)
    assert "Study A, neural similarity" in words and "Study B, generalization and curvature" in words
    # the scorecard: figure embedded, one table row per rule
    png = (repo / "results/scorecard.png").read_bytes()
    assert base64.b64encode(png).decode() in page.replace("\\/", "/"), "scorecard figure not on the landing page"
    assert "Rule scorecard (mean over seeds [95% bootstrap CI]; – = not run)" in words
    rules = [line.split(",")[0] for line in (repo / "results/scorecard.csv").read_text().splitlines()[1:]]
    assert rules and all(f"{r} " in words for r in rules)
    # the claims table with verdicts
    claims = json.loads((repo / "results/claims.json").read_text())
    n = {v: sum(c["verdict"] == v for c in claims) for v in ("holds", "fails", "inconclusive")}
    assert (f"Of {len(claims)} claims at this preset, {n['holds']} hold, {n['fails']} fail and "
            f"{n['inconclusive']} are inconclusive") in words
    assert "Claims and verdicts" in words and all(c["id"] in words for c in claims)
    # which datasets were used or skipped, and why
    datasets = json.loads((repo / "results/datasets.json").read_text())
    for d in datasets:
        assert f"{d['dataset']} A {d['task']} {d['status']}" in words, d
        if d["status"] == "skipped":
            assert plain(d["reason"]) in words
    # verdicts first, then the two study figures (A2, B3), the scorecard and the datasets
    assert words.index("Claims and verdicts") < words.index("Headline figures") < words.index(
        "Rule scorecard (mean over seeds") < words.index("Datasets dataset study task status")
    for fig in sorted((repo / "results/figures").glob("*/A2_*.png"))[:1] + sorted(
            (repo / "results/figures").glob("*/B3_*.png"))[:1]:
        assert base64.b64encode(fig.read_bytes()).decode() in page.replace("\\/", "/"), f"{fig.name} not on the page"
