"""MNIST handwritten digits (LeCun, Bottou, Bengio & Haffner 1998), read straight from the IDX files.

The four upstream files (gzipped IDX, as distributed on the original MNIST page and its mirrors) are listed in
:data:`MNIST_FILES` with their SHA-256 digests; :func:`fetch_mnist` obtains them (URL or local mirror, checksum
verified, atomically). :func:`read_idx` parses an IDX file (gzipped or raw) with nothing but ``gzip`` and numpy,
:func:`load_mnist` returns the four arrays as stored (``uint8`` images), and :func:`read_data_sets` applies the
split of TensorFlow's ``input_data.read_data_sets`` used by the authors' sMNIST code (Liu et al. 2022): the first
5,000 training images are the validation set, the remaining 55,000 the training set, pixels scaled to [0, 1]
float32.

IDX format: two zero bytes, a type code byte (``0x08`` uint8, ``0x09`` int8, ``0x0B`` int16, ``0x0C`` int32,
``0x0D`` float32, ``0x0E`` float64), a byte with the number of dimensions ``d``, ``d`` big-endian uint32 sizes,
then the data in C order, big-endian.

:func:`write_idx` and :func:`write_fake_mnist` write files in the same format for tests.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from biocredit.data.fetch import RemoteFile, fetch
from biocredit.io import atomic_path

__all__ = [
    "MNIST_BASE_URL",
    "MNIST_FILENAMES",
    "MNIST_SHA256",
    "MNIST_SIZES",
    "MNIST_FILES",
    "IDXFormatError",
    "read_idx",
    "write_idx",
    "fetch_mnist",
    "load_mnist",
    "split_train_validation",
    "read_data_sets",
    "write_fake_mnist",
]

#: Mirror used by TensorFlow's ``read_data_sets`` since the original page stopped serving the files.
MNIST_BASE_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"

#: role -> upstream file name
MNIST_FILENAMES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

#: SHA-256 of the upstream gzipped files (identical on yann.lecun.com, the cvdf and the ossci mirrors).
MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

#: sizes in bytes of the upstream gzipped files
MNIST_SIZES: dict[str, int] = {
    "train-images-idx3-ubyte.gz": 9_912_422,
    "train-labels-idx1-ubyte.gz": 28_881,
    "t10k-images-idx3-ubyte.gz": 1_648_877,
    "t10k-labels-idx1-ubyte.gz": 4_542,
}

_DESCRIPTIONS = {
    "train_images": "MNIST training images, 60,000 x 28 x 28 uint8 (LeCun et al. 1998), gzipped IDX",
    "train_labels": "MNIST training labels, 60,000 uint8 (LeCun et al. 1998), gzipped IDX",
    "test_images": "MNIST test images, 10,000 x 28 x 28 uint8 (LeCun et al. 1998), gzipped IDX",
    "test_labels": "MNIST test labels, 10,000 uint8 (LeCun et al. 1998), gzipped IDX",
}

#: One registry entry per file; registry keys ``mnist_<role>``, mirror paths ``mnist/<upstream name>``.
MNIST_FILES: list[RemoteFile] = [
    RemoteFile(
        name=f"mnist_{role}",
        url=MNIST_BASE_URL + filename,
        sha256=MNIST_SHA256[filename],
        size=MNIST_SIZES[filename],
        relpath=f"mnist/{filename}",
        description=_DESCRIPTIONS[role],
    )
    for role, filename in MNIST_FILENAMES.items()
]

_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_CODES: dict[str, int] = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXFormatError(ValueError):
    """A file is not a well-formed IDX file (bad magic number, unknown type, or wrong data length)."""


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when it is gzipped (detected from its content, not its name)."""
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise IDXFormatError(f"{path}: corrupt gzip stream: {err}") from err
    return raw


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or raw) into a native-endian numpy array.

    Raises:
        IDXFormatError: the magic number is wrong (the first two bytes must be zero, the third a known type
            code), or the data length does not match the header's dimensions.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise IDXFormatError(f"{path}: too short for an IDX header ({len(data)} bytes)")
    zero0, zero1, code, ndim = data[:4]
    if zero0 != 0 or zero1 != 0 or code not in _IDX_DTYPES:
        raise IDXFormatError(
            f"{path}: bad IDX magic number 0x{data[:4].hex()} (expected 0x0000TTDD with type code TT in "
            f"{{{', '.join(f'{c:02x}' for c in _IDX_DTYPES)}}} and DD the number of dimensions)"
        )
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IDXFormatError(f"{path}: header announces {ndim} dimensions but the file ends after {len(data)} bytes")
    shape = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header_len != expected:
        raise IDXFormatError(
            f"{path}: header says shape {shape} of {dtype} ({expected} bytes) but {len(data) - header_len} "
            "data bytes follow"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, gzipped when ``compress`` (default: when the name ends in ``.gz``).

    Supported dtypes: uint8, int8, int16, int32, float32, float64. Written atomically.
    """
    path = Path(path)
    array = np.asarray(array)
    key = f"{array.dtype.kind}{array.dtype.itemsize}"
    if key not in _IDX_CODES:
        raise TypeError(f"IDX cannot hold dtype {array.dtype}")
    if array.ndim > 255:
        raise ValueError("IDX holds at most 255 dimensions")
    header = bytes([0, 0, _IDX_CODES[key], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    body = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder(">")).tobytes()
    payload = header + body
    if compress is None:
        compress = path.name.endswith(".gz")
    if compress:
        payload = gzip.compress(payload, mtime=0)
    with atomic_path(path) as tmp:
        tmp.write_bytes(payload)
    return path


def fetch_mnist(folder: str | os.PathLike, *, mirror: Path | None = None, timeout: float = 60) -> Path:
    """Obtain the four MNIST files in ``folder`` (downloaded, or copied from ``mirror / mnist/<name>``), verified.

    Returns:
        ``folder`` as a Path.
    """
    folder = Path(folder)
    for entry in MNIST_FILES:
        fetch(entry.url, folder / Path(entry.relpath).name, entry.sha256, mirror=mirror,
              mirror_relpath=entry.relpath, timeout=timeout)
    return folder


def _find(folder: Path, filename: str) -> Path:
    """``folder/filename``, or its un-gzipped twin when only that exists."""
    path = folder / filename
    if path.is_file():
        return path
    raw = folder / filename.removesuffix(".gz")
    if raw.is_file():
        return raw
    raise FileNotFoundError(f"MNIST file {filename} (or {raw.name}) not found in {folder}")


def load_mnist(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read the four MNIST files from ``folder`` (upstream names, gzipped or not).

    Returns:
        ``train_images`` uint8 ``(60000, 28, 28)``, ``train_labels`` uint8 ``(60000,)``, ``test_images`` uint8
        ``(10000, 28, 28)``, ``test_labels`` uint8 ``(10000,)`` (any counts and image size for fake data).

    Raises:
        FileNotFoundError: a file is missing. IDXFormatError / ValueError: malformed or inconsistent files.
    """
    folder = Path(folder)
    out = {role: read_idx(_find(folder, filename)) for role, filename in MNIST_FILENAMES.items()}
    for split in ("train", "test"):
        images, labels = out[f"{split}_images"], out[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"{folder}: {split} images must be (n, rows, cols) and labels (n,); got {images.shape}, {labels.shape}"
            )
    if out["train_images"].shape[1:] != out["test_images"].shape[1:]:
        raise ValueError(f"{folder}: train and test images differ in size")
    return out


def split_train_validation(
    images: np.ndarray, labels: np.ndarray, n_validation: int = 5000
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """TF ``read_data_sets`` split: validation = the first ``n_validation`` examples, training = the rest.

    Returns:
        ``((train_images, train_labels), (validation_images, validation_labels))``.
    """
    if not 0 <= n_validation <= len(images):
        raise ValueError(f"n_validation={n_validation} must lie in [0, {len(images)}]")
    return (images[n_validation:], labels[n_validation:]), (images[:n_validation], labels[:n_validation])


def read_data_sets(folder: str | os.PathLike, n_validation: int = 5000) -> dict[str, np.ndarray]:
    """MNIST as TF's ``input_data.read_data_sets`` gives it (without one-hot labels).

    Returns:
        ``train_images`` (55000, 28, 28), ``validation_images`` (5000, 28, 28), ``test_images`` (10000, 28, 28),
        float32 in [0, 1], and the matching ``*_labels`` as int64. Pixels are scaled as TF's ``DataSet`` does,
        ``numpy.multiply(images.astype(float32), 1.0 / 255.0)`` in float32: the product with the rounded reciprocal,
        which differs from ``x / 255`` by one unit in the last place for about half of the 256 pixel values.
    """
    raw = load_mnist(folder)
    (tr_x, tr_y), (va_x, va_y) = split_train_validation(raw["train_images"], raw["train_labels"], n_validation)
    out = {}
    for split, (x, y) in {"train": (tr_x, tr_y), "validation": (va_x, va_y),
                          "test": (raw["test_images"], raw["test_labels"])}.items():
        out[f"{split}_images"] = np.multiply(x.astype(np.float32), np.float32(1.0 / 255.0))
        out[f"{split}_labels"] = y.astype(np.int64)
    return out


def write_fake_mnist(
    folder: str | os.PathLike,
    n_train: int = 60,
    n_test: int = 20,
    *,
    shape: tuple[int, int] = (28, 28),
    seed: int = 0,
    compress: bool = True,
) -> dict[str, np.ndarray]:
    """Write four small MNIST-format files (upstream names; gzipped unless ``compress=False``) for tests.

    Images are random uint8 with a bright square whose column encodes the label; labels cycle 0..9.

    Returns:
        The arrays written, keyed like :func:`load_mnist`.
    """
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    for split, n in (("train", n_train), ("test", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 64, size=(n, *shape), dtype=np.uint8)
        for i, lab in enumerate(labels):
            c = int(lab) * max(shape[1] // 10, 1) % shape[1]
            images[i, 2:-2, c : c + 2] = 255
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    for role, filename in MNIST_FILENAMES.items():
        name = filename if compress else filename.removesuffix(".gz")
        write_idx(folder / name, arrays[role], compress=compress)
    return arrays
