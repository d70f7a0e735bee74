"""Data access: fetch files (URL or mirror, SHA-256 checked, atomically); load datasets as NetCDF."""

from biocredit.data.fetch import (
    MIRROR_ENV_VAR,
    ChecksumError,
    DataUnavailableError,
    fetch,
    resolve_mirror,
    verify_sha256,
)
from biocredit.data.hatsopoulos import KINEMATIC_KEYS, load_hatsopoulos, make_fake_hatsopoulos_npy
from biocredit.data.mante import (
    fetch_mante,
    load_mante,
    make_fake_mante_folder,
    make_fake_mante_zip,
    preprocess_mante,
    record_or_verify,
    unzip_atomic,
)
from biocredit.data.preprocess import DATASET_LOADERS, preprocess_dataset
from biocredit.data.registry import REMOTE_FILES, RemoteFile, remote_file

__all__ = [
    "MIRROR_ENV_VAR",
    "ChecksumError",
    "DataUnavailableError",
    "fetch",
    "resolve_mirror",
    "verify_sha256",
    "KINEMATIC_KEYS",
    "load_hatsopoulos",
    "make_fake_hatsopoulos_npy",
    "DATASET_LOADERS",
    "preprocess_dataset",
    "REMOTE_FILES",
    "RemoteFile",
    "remote_file",
    "fetch_mante",
    "load_mante",
    "make_fake_mante_folder",
    "make_fake_mante_zip",
    "preprocess_mante",
    "record_or_verify",
    "unzip_atomic",
]
