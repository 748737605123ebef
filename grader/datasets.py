"""MNIST and CIFAR-10 as uint8 arrays, shaped like ``keras.datasets`` returns them.

Files live in the course's ``data/`` folder (or ``$CNN_COURSE_DATA``). Every file is
checked against the SHA-256 sums in ``grader/dataset_checksums.json`` before it is used, so a
truncated or tampered file is an error, never a silently different dataset. A file that
is missing is downloaded from its canonical public source, verified against the
official archive's checksum, converted, and only then moved into place: an interrupted
download leaves no half-written file behind.

    >>> (x_train, y_train), (x_test, y_test) = load_mnist()
    >>> x_train.shape, y_train.shape
    ((60000, 28, 28), (60000,))
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import tarfile
import tempfile
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

# The registry travels with the package (a wheel installed anywhere verifies the same files);
# data/checksums.json in the repository is a link to it.
CHECKSUMS_FILE = Path(__file__).resolve().parent / "dataset_checksums.json"
# A checkout of the course holding this package (None for an installed wheel).
CHECKOUT = Path(__file__).resolve().parent.parent
DATA_DIR_VARIABLE = "CNN_COURSE_DATA"
SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")

# Which file backs each CIFAR-10 variant. "auto" prefers the original pixels, then the
# complete-but-JPEG-degraded copy the course machines carry, then downloads the original.
CIFAR10_FILES = {
    "original": "cifar10.npz",
    "jpeg": "cifar10_jpeg.npz",
    "subset": "cifar10_subset.npz",
}


class DatasetError(RuntimeError):
    """A dataset file is missing, cannot be fetched, or is not the file we expect."""


def default_data_dir() -> Path:
    """$CNN_COURSE_DATA; else the data/ folder of the course around the working folder (the
    nearest folder with an nbgrader_config.py and a data/ folder: a student's bundle, an
    instructor's course; a scratch copy without one, such as a grading course, is passed
    over); else that of the checkout holding this package; else a cache in the user's home."""
    if os.environ.get(DATA_DIR_VARIABLE):
        return Path(os.environ[DATA_DIR_VARIABLE])
    here = Path.cwd().resolve()
    for folder in (here, *here.parents, CHECKOUT):
        if (folder / "nbgrader_config.py").is_file() and (folder / "data").is_dir():
            return folder / "data"
    return Path.home() / ".cache" / "cnn-course" / "data"


def load_registry(path: Path = CHECKSUMS_FILE) -> dict:
    with open(path) as f:
        return json.load(f)["files"]


def sha256_of(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


class DataStore:
    """A folder of verified dataset files, described by a registry (grader/dataset_checksums.json).

    Each registry entry names the accepted SHA-256 sums of the file and, where the file
    can be fetched, a ``download`` record: the canonical URL, the archive's official
    SHA-256 and the converter that turns the archive into our ``.npz`` format.
    """

    def __init__(self, directory: Path | str | None = None, registry: dict | None = None):
        self.directory = Path(directory) if directory is not None else default_data_dir()
        self.registry = registry if registry is not None else load_registry()

    # -- public -----------------------------------------------------------------
    def has(self, name: str) -> bool:
        return (self.directory / name).exists()

    def path(self, name: str, *, download: bool = True) -> Path:
        """The verified path of ``name``, downloading it first if it is missing."""
        entry = self._entry(name)
        target = self.directory / name
        if not target.exists():
            if not download or "download" not in entry:
                raise DatasetError(self._missing_message(name, entry))
            self._download(name, entry)
        self._verify(target, entry)
        return target

    def arrays(self, name: str, *, download: bool = True) -> dict[str, np.ndarray]:
        path = self.path(name, download=download)
        try:
            with np.load(path, allow_pickle=False) as archive:
                missing = [key for key in SPLIT_KEYS if key not in archive.files]
                if missing:
                    raise DatasetError(f"{path} lacks the arrays {missing}.")
                return {key: archive[key] for key in SPLIT_KEYS}
        except (zipfile.BadZipFile, ValueError, OSError) as error:
            raise DatasetError(
                f"{path} matches its checksum but cannot be read: {error}"
            ) from error

    # -- internals --------------------------------------------------------------
    def _entry(self, name: str) -> dict:
        try:
            return self.registry[name]
        except KeyError:
            known = ", ".join(sorted(self.registry))
            raise DatasetError(f"No dataset file called {name!r}; known files: {known}.") from None

    def _accepted_sums(self, target: Path, entry: dict) -> dict[str, str]:
        accepted = dict(entry.get("sha256", {}))
        sidecar = target.with_name(target.name + ".sha256")
        if sidecar.exists():
            # Written by _download after it verified the official archive: the file we
            # converted ourselves has no published checksum of its own.
            digest, _, origin = sidecar.read_text().strip().partition(" ")
            accepted[digest] = origin or "converted locally from a verified download"
        return accepted

    def _verify(self, target: Path, entry: dict) -> None:
        accepted = self._accepted_sums(target, entry)
        actual = sha256_of(target)
        if actual not in accepted:
            expected = "\n".join(f"  {digest}  ({origin})" for digest, origin in accepted.items())
            raise DatasetError(
                f"{target} is corrupt, truncated or not the expected file.\n"
                f"Its SHA-256 is {actual}; expected one of:\n{expected or '  (none recorded)'}\n"
                f"Delete the file and load again to download a fresh copy, "
                f"or copy a good one into {self.directory}."
            )

    def _missing_message(self, name: str, entry: dict) -> str:
        where = self.directory / name
        how = entry.get("how_to_get", "")
        return f"{where} is missing. {how}".strip()

    def _download(self, name: str, entry: dict) -> None:
        spec = entry["download"]
        self.directory.mkdir(parents=True, exist_ok=True)
        archive = converted = None
        try:
            archive = self._fetch(spec["url"], name)
            digest = sha256_of(archive)
            if digest != spec["sha256"]:
                raise DatasetError(
                    f"The download of {name} from {spec['url']} has SHA-256 {digest}, "
                    f"not the official {spec['sha256']}; nothing was saved. Try again later."
                )
            converted = self._temporary_path(name)
            CONVERTERS[spec["convert"]](archive, converted)
            target = self.directory / name
            sidecar = target.with_name(target.name + ".sha256")
            sidecar.write_text(f"{sha256_of(converted)} converted from {spec['url']}\n")
            os.replace(converted, target)
            converted = None
        finally:
            for leftover in (archive, converted):
                if leftover is not None and leftover.exists():
                    leftover.unlink()

    def _temporary_path(self, name: str) -> Path:
        handle, path = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=self.directory)
        os.close(handle)
        return Path(path)

    def _fetch(self, url: str, name: str) -> Path:
        partial = self._temporary_path(name + ".download")
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
        except (urllib.error.URLError, OSError) as error:
            partial.unlink(missing_ok=True)
            raise DatasetError(
                f"{self.directory / name} is missing and could not be downloaded from {url} "
                f"({error}). Offline? Copy {name} into {self.directory}/ from a machine "
                f"that has it (see data/README.md)."
            ) from error
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return partial


# -- converters: official archive -> our npz format ------------------------------


def _copy_npz(archive: Path, destination: Path) -> None:
    """Keras's MNIST mirror is already an npz with our four keys: copy it as it is."""
    with open(archive, "rb") as source, open(destination, "wb") as target:
        while chunk := source.read(1 << 20):
            target.write(chunk)


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """The CIFAR-10 batches are pickles; allow only what a NumPy array needs."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR-10 batch")


def _read_cifar_batch(tar: tarfile.TarFile, member: str) -> tuple[np.ndarray, np.ndarray]:
    raw = tar.extractfile(member)
    if raw is None:
        raise DatasetError(f"the CIFAR-10 archive has no file {member}")
    batch = _ArrayOnlyUnpickler(io.BytesIO(raw.read()), encoding="bytes").load()
    images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    labels = np.asarray(batch[b"labels"], dtype=np.uint8)
    return images.transpose(0, 2, 3, 1), labels


def _convert_cifar10_tarball(archive: Path, destination: Path) -> None:
    """cifar-10-python.tar.gz (5 train batches + 1 test batch) -> npz with our keys."""
    folder = "cifar-10-batches-py"
    with tarfile.open(archive, "r:gz") as tar:
        train = [_read_cifar_batch(tar, f"{folder}/data_batch_{i}") for i in range(1, 6)]
        x_test, y_test = _read_cifar_batch(tar, f"{folder}/test_batch")
    with open(destination, "wb") as out:
        np.savez(
            out,
            x_train=np.concatenate([x for x, _ in train]),
            y_train=np.concatenate([y for _, y in train]),
            x_test=x_test,
            y_test=y_test,
        )


CONVERTERS: dict[str, Callable[[Path, Path], None]] = {
    "npz": _copy_npz,
    "cifar10-python-tarball": _convert_cifar10_tarball,
}


# -- the two datasets -------------------------------------------------------------


def _check_images(arrays: dict[str, np.ndarray], image_shape: tuple[int, ...], name: str) -> None:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or x.shape[1:] != image_shape or len(x) != len(y):
            raise DatasetError(
                f"{name}: x_{split} is {x.dtype} {x.shape} with {len(y)} labels; "
                f"expected uint8 (N, {', '.join(map(str, image_shape))}) with N labels."
            )


def load_mnist(data_dir: Path | str | None = None, *, download: bool = True):
    """MNIST as ``((x_train, y_train), (x_test, y_test))``: uint8, images (N, 28, 28), labels (N,)."""
    arrays = DataStore(data_dir).arrays("mnist.npz", download=download)
    _check_images(arrays, (28, 28), "mnist.npz")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_cifar10(
    variant: str = "auto", data_dir: Path | str | None = None, *, download: bool = True
):
    """CIFAR-10 as ``((x_train, y_train), (x_test, y_test))``: uint8, images (N, 32, 32, 3),
    labels (N, 1) like ``keras.datasets.cifar10``.

    ``variant``: "original" (the official pixels; downloaded when missing), "jpeg" (the
    complete copy whose images mostly went through JPEG, see data/README.md), "subset"
    (4,000 train / 1,000 test original images) or "auto" (original if present, else jpeg
    if present, else download the original).
    """
    store = DataStore(data_dir)
    if variant == "auto":
        variant = next((v for v in ("original", "jpeg") if store.has(CIFAR10_FILES[v])), "original")
        if variant == "jpeg":
            warnings.warn(
                "Using data/cifar10_jpeg.npz: complete CIFAR-10, but 92% of its images went "
                "through JPEG (quality 75), so accuracies can differ from published ones. "
                "Put the original in data/cifar10.npz to use it instead.",
                stacklevel=2,
            )
    if variant not in CIFAR10_FILES:
        raise ValueError(
            f"variant must be 'auto' or one of {sorted(CIFAR10_FILES)}, not {variant!r}"
        )
    name = CIFAR10_FILES[variant]
    arrays = store.arrays(name, download=download)
    _check_images(arrays, (32, 32, 3), name)
    return (
        (arrays["x_train"], arrays["y_train"].reshape(-1, 1)),
        (arrays["x_test"], arrays["y_test"].reshape(-1, 1)),
    )
