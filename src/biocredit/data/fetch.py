"""Fetch a remote file (from its URL or a local mirror folder), verify its SHA-256, and place it atomically.

Nothing unverified ever appears at the destination: bytes are written to a temporary file beside it, hashed,
and renamed into place only if the digest matches the expected one.
"""

from __future__ import annotations

import logging
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from biocredit.io import atomic_path, sha256_file

__all__ = [
    "MIRROR_ENV_VAR",
    "RemoteFile",
    "ChecksumError",
    "DataUnavailableError",
    "resolve_mirror",
    "fetch",
    "verify_sha256",
]

log = logging.getLogger(__name__)

MIRROR_ENV_VAR = "BIOCREDIT_DATA_MIRROR"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """One remote data file.

    Attributes:
        name: registry key.
        url: upstream download URL.
        sha256: expected SHA-256 hex digest.
        size: size in bytes.
        relpath: path of the file inside a local mirror folder.
        description: one-line description.
    """

    name: str
    url: str
    sha256: str
    size: int
    relpath: str
    description: str


class ChecksumError(ValueError):
    """A file's SHA-256 digest differs from the expected one."""


class DataUnavailableError(FileNotFoundError):
    """A data file could not be obtained (missing mirror file or folder, network failure)."""


def resolve_mirror(config_value: str | None) -> Path | None:
    """Decide which local mirror folder to use, if any.

    Args:
        config_value: the mirror folder from the workflow config (``None`` or ``""`` for none).

    Returns:
        The absolute mirror folder, or ``None`` when neither the environment variable
        ``BIOCREDIT_DATA_MIRROR`` (which wins when set and non-empty) nor the config names one.

    Raises:
        DataUnavailableError: a mirror folder is named but does not exist.
    """
    env_value = os.environ.get(MIRROR_ENV_VAR, "")
    if env_value:
        value, origin = env_value, f"environment variable {MIRROR_ENV_VAR}"
    elif config_value:
        value, origin = str(config_value), "config value"
    else:
        return None
    folder = Path(value).expanduser().resolve()
    if not folder.is_dir():
        raise DataUnavailableError(
            f"data mirror folder {folder} (from the {origin}) does not exist or is not a folder"
        )
    return folder


def verify_sha256(path: str | os.PathLike, expected: str) -> None:
    """Raise :class:`ChecksumError` unless the SHA-256 of ``path`` equals ``expected`` (case-insensitive)."""
    actual = sha256_file(path)
    if actual != expected.lower():
        raise ChecksumError(f"SHA-256 mismatch for {path}: expected {expected.lower()}, got {actual}")


def _copy_from_mirror(src: Path, tmp: Path) -> None:
    """Copy a mirror file into ``tmp``; a missing file raises :class:`DataUnavailableError`."""
    if not src.is_file():
        raise DataUnavailableError(f"mirror file {src} does not exist")
    shutil.copyfile(src, tmp)


def _download(url: str, tmp: Path, timeout: float) -> None:
    """Stream ``url`` into ``tmp``; network errors raise :class:`DataUnavailableError`."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out, _CHUNK)
    except (urllib.error.URLError, OSError) as err:
        raise DataUnavailableError(
            f"could not download {url}: {err}. Without internet access, set {MIRROR_ENV_VAR} "
            "(or the workflow's mirror config) to a folder holding a copy of the data."
        ) from err


def _url_basename(url: str) -> str:
    """Last path component of a URL, percent-decoded."""
    return urllib.parse.unquote(Path(urllib.parse.urlparse(url).path).name)


def fetch(
    url: str,
    dest: str | os.PathLike,
    sha256: str,
    *,
    mirror: Path | None = None,
    mirror_relpath: str | None = None,
    timeout: float = 60,
) -> Path:
    """Obtain a file with a known SHA-256 at ``dest``, from a mirror folder or by downloading ``url``.

    If ``dest`` already exists with the right digest nothing is done. Otherwise (including a stale ``dest``
    with a wrong digest) the file is copied from ``mirror / mirror_relpath`` (the URL's basename when
    ``mirror_relpath`` is ``None``) or downloaded, hashed in a temporary file beside ``dest``, and renamed
    into place only if the digest matches.

    Args:
        url: upstream URL (also names the source in messages when downloading).
        dest: where the file should end up.
        sha256: expected SHA-256 hex digest.
        mirror: local mirror folder (see :func:`resolve_mirror`); ``None`` downloads.
        mirror_relpath: path of the file inside the mirror folder.
        timeout: network timeout in seconds.

    Returns:
        ``dest`` as a Path.

    Raises:
        ChecksumError: the obtained bytes have the wrong digest (nothing is left at ``dest``).
        DataUnavailableError: the mirror file is missing or the download failed.
    """
    dest = Path(dest)
    expected = sha256.lower()
    if dest.is_file():
        if sha256_file(dest) == expected:
            log.debug("%s already present with matching SHA-256", dest)
            return dest
        log.warning("%s exists but its SHA-256 does not match; fetching it again", dest)
        dest.unlink()
    with atomic_path(dest) as tmp:
        if mirror is not None:
            source = str(Path(mirror) / (mirror_relpath or _url_basename(url)))
            log.info("copying %s -> %s", source, dest)
            _copy_from_mirror(Path(source), tmp)
        else:
            source = url
            log.info("downloading %s -> %s", url, dest)
            _download(url, tmp, timeout)
        actual = sha256_file(tmp)
        if actual != expected:
            raise ChecksumError(
                f"SHA-256 mismatch for {source} (destination {dest}): expected {expected}, got {actual}"
            )
    log.info("verified %s (sha256 %s)", dest, expected)
    return dest
