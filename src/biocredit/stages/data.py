"""Stages of ``rules/data.smk`` and the MNIST download of ``rules/generalization.smk``: fetch (URL or mirror,
SHA-256 verified), preprocess recordings into the NetCDF contract, record which datasets were used, and which config
files made ``results/``."""

from __future__ import annotations

import logging
from pathlib import Path

from biocredit.data import fetch, fetch_mante, preprocess_dataset, remote_file, resolve_mirror
from biocredit.data.mnist import MNIST_FILES
from biocredit.io import atomic_path, write_json

log = logging.getLogger(__name__)

__all__ = ["download", "download_mnist", "preprocess", "write_dataset_status", "record_configfiles"]


def download(name: str, out: str, mirror_setting: str | None, lock_file: str | None = None) -> None:
    """Fetch a registered remote file from its URL or a mirror folder, verifying its SHA-256 (for the Mante zip,
    whose digest is not published, the first download records it in the lock file and later ones verify it)."""
    mirror = resolve_mirror(mirror_setting)
    if name == "mante2013":
        fetch_mante(out, mirror=mirror, **({"lock_file": lock_file} if lock_file else {}))
        return
    entry = remote_file(name)
    fetch(entry.url, out, entry.sha256, mirror=mirror, mirror_relpath=entry.relpath)


def preprocess(name: str, raw, out: str, lock_file: str | None = None) -> None:
    """Raw file (or a user dataset's files by role) → NetCDF contract."""
    options = {"lock_file": lock_file} if name == "mante2013" and lock_file else {}
    preprocess_dataset(name, raw, out, **options)


def write_dataset_status(status: dict, out: str) -> None:
    """The list of datasets with 'used' or 'skipped' and the reason; skipped ones are also logged."""
    rows = sorted(status.values(), key=lambda r: r["dataset"])
    for r in rows:
        if r["status"] == "skipped":
            log.warning("dataset %s skipped: %s", r["dataset"], r["reason"])
    write_json(rows, out)


def download_mnist(filename: str, out: str, mirror_setting: str | None) -> None:
    """Fetch one MNIST IDX file (registry ``mnist_*``) from its URL or the mirror, verifying its SHA-256."""
    entry = next((f for f in MNIST_FILES if Path(f.relpath).name == filename), None)
    if entry is None:
        raise ValueError(f"{filename!r} is not one of the MNIST files {[Path(f.relpath).name for f in MNIST_FILES]}")
    fetch(entry.url, out, entry.sha256, mirror=resolve_mirror(mirror_setting), mirror_relpath=entry.relpath)


def record_configfiles(files: list[str], out: str) -> None:
    """The config files of this run, one per line (what ``make report`` passes back to Snakemake)."""
    with atomic_path(out) as tmp:
        Path(tmp).write_text("".join(f"{f}\n" for f in files))
