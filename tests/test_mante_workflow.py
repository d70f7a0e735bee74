"""The Mante branch of study A end to end, on a small zip in the upstream layout placed in a mirror folder."""

from __future__ import annotations

import json

import pytest
import xarray as xr

from biocredit.claims import VERDICTS
from biocredit.data import make_fake_mante_zip
from tests.test_workflow import REPO, SMOKE, snakemake


@pytest.mark.slow
def test_mante_runs_from_a_mirror_and_records_its_checksum(tmp_path, mirror):
    fake_mirror = tmp_path / "mirror"
    (fake_mirror / "mante2013").mkdir(parents=True)
    (fake_mirror / "hatsopoulos2007").symlink_to(mirror / "hatsopoulos2007")
    sha = make_fake_mante_zip(fake_mirror / "mante2013" / "PFC data.zip", n_units=12, seed=1)
    lock = tmp_path / "lock.json"
    lock.write_text("{}")
    cfg = tmp_path / "mante.yaml"
    cfg.write_text(f"data:\n  lock_file: {lock}\n  skip: []\nsimilarity:\n  tasks: [mante]\n")
    work = tmp_path / "work"
    args = ["-d", str(work), "--configfile", str(REPO / "config.yaml"), str(SMOKE), str(cfg), "--cores", "2"]
    figures = ("A1_mante", "A2_mante2013", "A3_mante2013", "A6_mante2013", "A7_mante2013")
    # claim rows and figures are separate jobs (a claim job draws nothing): ask for both
    targets = [f"results/figures/A/{fig}.png" for fig in figures]
    targets += [f"results/claims/A{k}-mante2013.json" for k in range(2, 8)]
    snakemake(*args, *targets, env={"BIOCREDIT_DATA_MIRROR": str(fake_mirror)})
    assert json.loads(lock.read_text())["mante2013"]["sha256"] == sha  # recorded on first download
    res = work / "results"
    with xr.open_dataset(res / "data/mante2013.nc") as ds:
        assert ds.sizes["condition"] == 72 and ds.sizes["time"] == 50
    for k in range(2, 8):
        row = json.loads((res / f"claims/A{k}-mante2013.json").read_text())
        assert row["id"] == f"A{k}-mante2013" and row["verdict"] in VERDICTS
    for fig in figures:
        assert (res / f"figures/A/{fig}.png").stat().st_size > 10_000, fig
    # a tampered zip is refused against the recorded checksum, and nothing downstream is rebuilt from it
    (res / "raw/mante2013/PFC data.zip").unlink()
    (fake_mirror / "mante2013" / "PFC data.zip").write_bytes(b"PK\x03\x04 not the same zip")
    out = snakemake(*args, *targets, "--forcerun", "download", env={"BIOCREDIT_DATA_MIRROR": str(fake_mirror)},
                    check=False)
    assert out.returncode != 0
    log = (res / "logs/download/mante2013/PFC data.zip.log").read_text()
    assert sha in log and "ChecksumError" in log
    assert not (res / "raw/mante2013/PFC data.zip").exists()
