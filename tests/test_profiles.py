"""Every rule a profile sets resources, threads or groups for exists in the workflow: a renamed or new rule must not
leave a profile silently applying its resources to nothing (the rule would get the default resources)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from tests.conftest import REPO

PROFILES = sorted((REPO / "profiles").glob("*/config.yaml"))


@pytest.fixture(scope="module")
def workflow_rules() -> set[str]:
    out = subprocess.run([sys.executable, "-m", "snakemake", "--list-rules"], cwd=REPO, capture_output=True,
                         text=True, timeout=300, check=True).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.parent.name)
def test_profile_names_only_rules_of_the_workflow(profile, workflow_rules):
    cfg = yaml.safe_load(profile.read_text()) or {}
    named = {rule for key in ("set-resources", "set-threads", "groups") for rule in (cfg.get(key) or {})}
    assert workflow_rules >= {"train", "network_dynamics"}  # the listing worked
    missing = named - workflow_rules
    assert not missing, f"{profile.relative_to(REPO)} names rules the workflow lacks: {missing}"
