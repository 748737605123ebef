"""The dataset loader: verified files, clear errors, downloads that never leave half a file."""

import hashlib
import io
import pickle
import tarfile

import numpy as np
import pytest

from grader import datasets
from grader.datasets import DatasetError, DataStore, load_cifar10, load_mnist


def write_npz(path, n_train=6, n_test=4, image_shape=(28, 28), seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, *image_shape), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, *image_shape), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    np.savez(path, **arrays)
    return arrays


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def mnist_file(tmp_path):
    """A tiny MNIST-shaped npz in a data folder, and a registry that accepts it."""
    arrays = write_npz(tmp_path / "mnist.npz")
    registry = {"mnist.npz": {"sha256": {sha256(tmp_path / "mnist.npz"): "test file"}}}
    return tmp_path, registry, arrays


def use_registry(monkeypatch, registry):
    monkeypatch.setattr(datasets, "load_registry", lambda: registry)


def test_a_good_file_loads_as_keras_datasets_would_return_it(mnist_file, monkeypatch):
    folder, registry, arrays = mnist_file
    use_registry(monkeypatch, registry)
    (x_train, y_train), (x_test, y_test) = load_mnist(folder)
    assert x_train.dtype == np.uint8 and x_train.shape == (6, 28, 28) and y_train.shape == (6,)
    np.testing.assert_array_equal(x_test, arrays["x_test"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_a_corrupt_file_is_an_error_naming_the_file_and_the_expected_checksum(
    mnist_file, monkeypatch
):
    folder, registry, _ = mnist_file
    use_registry(monkeypatch, registry)
    expected = next(iter(registry["mnist.npz"]["sha256"]))
    data = bytearray((folder / "mnist.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    (folder / "mnist.npz").write_bytes(bytes(data))
    with pytest.raises(DatasetError) as error:
        load_mnist(folder)
    assert str(folder / "mnist.npz") in str(error.value)
    assert expected in str(error.value)


def test_a_truncated_file_is_an_error_too(mnist_file, monkeypatch):
    folder, registry, _ = mnist_file
    use_registry(monkeypatch, registry)
    data = (folder / "mnist.npz").read_bytes()
    (folder / "mnist.npz").write_bytes(data[: len(data) // 3])
    with pytest.raises(DatasetError, match="corrupt, truncated"):
        load_mnist(folder)


def test_a_missing_file_offline_says_which_file_to_put_where(tmp_path, monkeypatch):
    registry = {
        "mnist.npz": {
            "sha256": {},
            "download": {
                "url": (tmp_path / "no-such-server" / "mnist.npz").as_uri(),
                "sha256": "0" * 64,
                "convert": "npz",
            },
        }
    }
    use_registry(monkeypatch, registry)
    with pytest.raises(DatasetError) as error:
        load_mnist(tmp_path / "data")
    message = str(error.value)
    assert "could not be downloaded" in message and "Copy mnist.npz into" in message
    assert str(tmp_path / "data") in message
    assert not any((tmp_path / "data").iterdir()), "a failed download must leave nothing behind"


def test_a_missing_file_without_a_download_is_a_clear_error(tmp_path, monkeypatch):
    use_registry(
        monkeypatch, {"cifar10_jpeg.npz": {"sha256": {}, "how_to_get": "Ask the course team."}}
    )
    with pytest.raises(DatasetError, match=r"cifar10_jpeg\.npz is missing\. Ask the course team\."):
        load_cifar10("jpeg", tmp_path)


def test_a_missing_file_is_downloaded_verified_and_kept(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    arrays = write_npz(mirror / "mnist.npz")
    digest = sha256(mirror / "mnist.npz")
    use_registry(
        monkeypatch,
        {
            "mnist.npz": {
                "sha256": {digest: "official"},
                "download": {
                    "url": (mirror / "mnist.npz").as_uri(),
                    "sha256": digest,
                    "convert": "npz",
                },
            }
        },
    )
    data = tmp_path / "data"
    (x_train, _), _ = load_mnist(data)
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    assert sorted(p.name for p in data.iterdir()) == ["mnist.npz", "mnist.npz.sha256"]
    (mirror / "mnist.npz").unlink()  # the second load uses the verified local copy
    load_mnist(data)


def test_a_download_with_the_wrong_checksum_saves_nothing(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    write_npz(mirror / "mnist.npz")
    use_registry(
        monkeypatch,
        {
            "mnist.npz": {
                "sha256": {},
                "download": {
                    "url": (mirror / "mnist.npz").as_uri(),
                    "sha256": "f" * 64,
                    "convert": "npz",
                },
            }
        },
    )
    with pytest.raises(DatasetError, match="not the official"):
        load_mnist(tmp_path / "data")
    assert list((tmp_path / "data").iterdir()) == []


def test_an_interrupted_download_leaves_no_half_file(tmp_path, monkeypatch):
    use_registry(
        monkeypatch,
        {
            "mnist.npz": {
                "sha256": {},
                "download": {
                    "url": "https://example.invalid/mnist.npz",
                    "sha256": "0" * 64,
                    "convert": "npz",
                },
            }
        },
    )

    class BrokenConnection:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, size):
            raise KeyboardInterrupt  # the user presses Ctrl-C mid-download

    monkeypatch.setattr(datasets.urllib.request, "urlopen", lambda url, timeout: BrokenConnection())
    with pytest.raises(KeyboardInterrupt):
        load_mnist(tmp_path / "data")
    assert list((tmp_path / "data").iterdir()) == []


def cifar_tarball(path, per_batch=3, n_test=2, seed=0):
    """A miniature cifar-10-python.tar.gz in the official format (pickled dicts, CHW rows)."""
    rng = np.random.default_rng(seed)
    batches = {}
    for name, n in [*((f"data_batch_{i}", per_batch) for i in range(1, 6)), ("test_batch", n_test)]:
        batches[name] = {
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"labels": [int(v) for v in rng.integers(0, 10, n)],
        }
    with tarfile.open(path, "w:gz") as tar:
        for name, batch in batches.items():
            payload = pickle.dumps(batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return batches


def test_cifar10_is_downloaded_from_the_official_archive_and_converted_to_keras_layout(
    tmp_path, monkeypatch
):
    archive = tmp_path / "cifar-10-python.tar.gz"
    batches = cifar_tarball(archive)
    use_registry(
        monkeypatch,
        {
            "cifar10.npz": {
                "sha256": {},
                "download": {
                    "url": archive.as_uri(),
                    "sha256": sha256(archive),
                    "convert": "cifar10-python-tarball",
                },
            }
        },
    )
    (x_train, y_train), (x_test, y_test) = load_cifar10("original", tmp_path / "data")
    assert (
        x_train.shape == (15, 32, 32, 3)
        and y_train.shape == (15, 1)
        and x_test.shape == (2, 32, 32, 3)
    )
    first = batches["data_batch_1"][b"data"][0]
    # Official rows are 1024 red, then 1024 green, then 1024 blue values; Keras returns HWC.
    np.testing.assert_array_equal(x_train[0, :, :, 0].ravel(), first[:1024])
    np.testing.assert_array_equal(x_train[0, :, :, 2].ravel(), first[2048:])
    assert y_test.ravel().tolist() == batches["test_batch"][b"labels"]
    load_cifar10(
        "original", tmp_path / "data"
    )  # the cached conversion verifies against its sidecar


def test_auto_prefers_the_original_cifar10_then_the_jpeg_copy_with_a_warning(tmp_path, monkeypatch):
    write_npz(tmp_path / "cifar10_jpeg.npz", image_shape=(32, 32, 3))
    use_registry(
        monkeypatch,
        {
            "cifar10_jpeg.npz": {"sha256": {sha256(tmp_path / "cifar10_jpeg.npz"): "jpeg copy"}},
            "cifar10.npz": {"sha256": {}},
        },
    )
    with pytest.warns(UserWarning, match="JPEG"):
        (x_train, y_train), _ = load_cifar10(data_dir=tmp_path)
    assert x_train.shape[1:] == (32, 32, 3) and y_train.shape == (6, 1)


def test_a_file_with_the_wrong_image_shape_is_refused(tmp_path, monkeypatch):
    write_npz(tmp_path / "mnist.npz", image_shape=(32, 32))
    use_registry(monkeypatch, {"mnist.npz": {"sha256": {sha256(tmp_path / "mnist.npz"): "odd"}}})
    with pytest.raises(DatasetError, match=r"expected uint8 \(N, 28, 28\)"):
        load_mnist(tmp_path)


def test_the_committed_registry_lists_the_course_files_and_official_downloads():
    registry = datasets.load_registry()
    assert set(registry) == {"mnist.npz", "cifar10.npz", "cifar10_jpeg.npz", "cifar10_subset.npz"}
    assert registry["mnist.npz"]["download"]["sha256"] in registry["mnist.npz"]["sha256"]
    assert registry["cifar10.npz"]["download"]["url"].endswith("cifar-10-python.tar.gz")


def test_the_shared_mnist_copy_verifies_when_present():
    store = DataStore()
    if not store.has("mnist.npz"):
        pytest.skip("data/mnist.npz not present (it is downloaded on first use)")
    (x_train, y_train), (x_test, y_test) = load_mnist(download=False)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert np.bincount(y_test).tolist()[:3] == [980, 1135, 1032]  # MNIST's published test counts


def test_the_data_folder_is_the_environments_then_the_surrounding_courses(tmp_path, monkeypatch):
    from grader.datasets import CHECKOUT, DATA_DIR_VARIABLE, default_data_dir

    course = tmp_path / "my-course"
    (course / "notebooks" / "01_pooling").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    monkeypatch.delenv(DATA_DIR_VARIABLE, raising=False)
    monkeypatch.chdir(course / "notebooks" / "01_pooling")  # where a student runs a notebook
    # A course without a data/ folder (a scratch grading copy) is passed over ...
    assert default_data_dir() == CHECKOUT / "data"
    (course / "data").mkdir()  # ... one with it is where the datasets are
    assert default_data_dir() == course.resolve() / "data"
    monkeypatch.chdir(tmp_path)  # no course around: the checkout holding the package
    assert default_data_dir() == CHECKOUT / "data"
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path / "elsewhere"))
    assert default_data_dir() == tmp_path / "elsewhere"
