"""Registry of remote data files: where each lives upstream, its checksum, and its path in a mirror folder."""

from __future__ import annotations

from biocredit.data.fetch import RemoteFile
from biocredit.data.mante import MANTE_KEY, mante_remote_file
from biocredit.data.mnist import MNIST_FILES

__all__ = ["RemoteFile", "REMOTE_FILES", "remote_file"]


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


# MNIST's four IDX files and the Mante zip are declared beside their readers (biocredit.data.mnist, .mante). The
# Mante zip's checksum comes from the checked-in lock file (recorded on first download), so it is read afresh at
# each lookup.
REMOTE_FILES.update({f.name: f for f in MNIST_FILES})
REMOTE_FILES[MANTE_KEY] = mante_remote_file()


def remote_file(name: str) -> RemoteFile:
    """Look up a registry entry; an unknown name raises KeyError listing the known ones."""
    try:
        return mante_remote_file() if name == MANTE_KEY else REMOTE_FILES[name]
    except KeyError:
        raise KeyError(f"unknown remote file {name!r}; known: {', '.join(sorted(REMOTE_FILES))}") from None
