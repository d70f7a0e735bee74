"""Registry of remote data files: where each lives upstream, its checksum, and its path in a mirror folder."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RemoteFile", "REMOTE_FILES", "remote_file"]


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


_HATSOPOULOS_FILE = "data_output_aligntomovementonset_minT-800_maxT400_FRsmoothSD25ms.npy"

REMOTE_FILES: dict[str, RemoteFile] = {
    "hatsopoulos2007": RemoteFile(
        name="hatsopoulos2007",
        url=(
            "https://github.com/Helena-Yuhan-Liu/LearningRuleSimilarities/raw/"
            "689feefac5aab47fdf6169e4233e00f60deefccd/multisys_pipeline/experimental_data/Hatsopoulos2007/"
            + _HATSOPOULOS_FILE
        ),
        sha256="42ba0083581ac1d1d0f3e0e2d8e9a618aaf04d5ae5753e3df311c9aec1acec37",
        size=1139407,
        relpath=f"hatsopoulos2007/{_HATSOPOULOS_FILE}",
        description=(
            "Trial-averaged firing rates of 141 macaque M1 units, 8-direction centre-out reaches "
            "(Hatsopoulos et al. 2007), aligned to movement onset, -800..400 ms, 10 ms bins, "
            "preprocessed by Liu, Yang & Cueva (2025)"
        ),
    ),
}


def _register_lazy() -> None:
    # MNIST's four IDX files and the Mante zip are declared beside their readers (biocredit.data.mnist, .mante),
    # which import RemoteFile from here; registering them lazily avoids a circular import at module load. The
    # Mante zip's checksum comes from the checked-in lock file (recorded on first download).
    from biocredit.data.mante import mante_remote_file
    from biocredit.data.mnist import MNIST_FILES

    REMOTE_FILES.update({f.name: f for f in MNIST_FILES})
    REMOTE_FILES["mante2013"] = mante_remote_file()


def remote_file(name: str) -> RemoteFile:
    """Look up a registry entry; an unknown name raises KeyError listing the known ones."""
    try:
        if name not in REMOTE_FILES:
            _register_lazy()
        return REMOTE_FILES[name]
    except KeyError:
        raise KeyError(f"unknown remote file {name!r}; known: {', '.join(sorted(REMOTE_FILES))}") from None
