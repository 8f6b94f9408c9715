import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from cifar_helpers import data
from cifar_helpers.data import (
    CLASS_NAMES,
    CIFAR10FormatError,
    CIFAR10NotFoundError,
    load_batch,
    load_cifar10,
    one_hot,
    scale_pixels,
    subset_per_class,
)

SMALL = 12  # images per batch in the synthetic folders


def _write_batch(path, data_array, labels, protocol=4):
    batch = {b"batch_label": b"synthetic", b"labels": [int(v) for v in labels], b"data": data_array,
             b"filenames": [b"x.png"] * len(labels)}
    path.write_bytes(pickle.dumps(batch, protocol=protocol))


@pytest.fixture
def small_cifar(tmp_path, monkeypatch):
    """A cifar-10-batches-py folder with SMALL images per batch, and its contents."""
    monkeypatch.setattr(data, "IMAGES_PER_BATCH", SMALL)
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    contents = {}
    for name in (*data.TRAIN_BATCHES, data.TEST_BATCH):
        pixels = rng.integers(0, 256, size=(SMALL, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=SMALL)
        _write_batch(folder / name, pixels, labels)
        contents[name] = (pixels, labels)
    return folder, contents


def test_class_names():
    assert CLASS_NAMES[0] == "airplane" and CLASS_NAMES[-1] == "truck" and len(CLASS_NAMES) == 10


def test_data_dir_argument_gives_keras_shapes_and_byte_order(small_cifar, monkeypatch):
    folder, contents = small_cifar
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    (x_train, y_train), (x_test, y_test) = load_cifar10(folder)
    assert x_train.shape == (5 * SMALL, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (5 * SMALL, 1) and y_train.dtype == np.uint8
    assert x_test.shape == (SMALL, 32, 32, 3) and y_test.shape == (SMALL, 1)
    pixels, labels = contents["data_batch_2"]
    # Official order: the first 1024 bytes are the red plane, row by row.
    np.testing.assert_array_equal(x_train[SMALL, :, :, 0].ravel(), pixels[0, :1024])
    np.testing.assert_array_equal(x_train[SMALL, 0, 1], pixels[0, [1, 1025, 2049]])
    np.testing.assert_array_equal(y_train[SMALL:2 * SMALL, 0], labels)
    np.testing.assert_array_equal(y_test[:, 0], contents["test_batch"][1])


def test_environment_variable_is_used(small_cifar, monkeypatch):
    folder, contents = small_cifar
    monkeypatch.setenv("CIFAR10_DIR", str(folder))
    (_, y_train), _ = load_cifar10()
    np.testing.assert_array_equal(y_train[:SMALL, 0], contents["data_batch_1"][1])


def test_argument_wins_over_environment(small_cifar, monkeypatch, tmp_path):
    folder, _ = small_cifar
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "does-not-exist"))
    (x_train, _), _ = load_cifar10(folder)
    assert len(x_train) == 5 * SMALL


def test_keras_cache_copy_is_found(small_cifar, monkeypatch, tmp_path):
    folder, contents = small_cifar
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    home = tmp_path / "keras-home"
    cached = home / "datasets" / "cifar-10-batches-py-target"
    cached.mkdir(parents=True)
    folder.rename(cached / "cifar-10-batches-py")
    monkeypatch.setenv("KERAS_HOME", str(home))
    _, (_, y_test) = load_cifar10()
    np.testing.assert_array_equal(y_test[:, 0], contents["test_batch"][1])


def test_missing_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(CIFAR10NotFoundError, match=r"CIFAR10_DIR must name .*nowhere"):
        load_cifar10()
    with pytest.raises(CIFAR10NotFoundError, match=r"data_dir must name .*elsewhere"):
        load_cifar10(tmp_path / "elsewhere")


def test_missing_batch(small_cifar):
    folder, _ = small_cifar
    (folder / "data_batch_4").unlink()
    with pytest.raises(CIFAR10FormatError, match=r"data_batch_4' does not exist"):
        load_cifar10(folder)


def test_truncated_batch(small_cifar):
    folder, _ = small_cifar
    path = folder / "test_batch"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(CIFAR10FormatError, match=r"test_batch' is truncated or corrupted"):
        load_cifar10(folder)


def test_garbage_bytes(small_cifar):
    folder, _ = small_cifar
    (folder / "data_batch_1").write_bytes(b"this is not a pickle at all")
    with pytest.raises(CIFAR10FormatError, match=r"data_batch_1'"):
        load_cifar10(folder)


class _Exploit:
    """Unpickling this would run a shell command that creates a file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (subprocess.call, (["touch", str(self.marker)],))


def test_pickle_building_other_objects_is_rejected_and_not_run(small_cifar, tmp_path):
    folder, _ = small_cifar
    marker = tmp_path / "pwned"
    payload = {b"data": _Exploit(marker), b"labels": [0] * SMALL}
    (folder / "data_batch_3").write_bytes(pickle.dumps(payload, protocol=4))
    with pytest.raises(CIFAR10FormatError, match=r"data_batch_3' is not a valid CIFAR-10 pickle"
                       r".*refusing to load global 'subprocess.call'"):
        load_cifar10(folder)
    assert not marker.exists()


def test_wrong_shape(small_cifar):
    folder, _ = small_cifar
    _write_batch(folder / "data_batch_5", np.zeros((SMALL, 1024), np.uint8), [0] * SMALL)
    with pytest.raises(CIFAR10FormatError, match=r"data_batch_5'.*shape \(12, 3072\); "
                       r"received \(12, 1024\)"):
        load_cifar10(folder)


def test_wrong_dtype(small_cifar):
    folder, _ = small_cifar
    _write_batch(folder / "data_batch_5", np.zeros((SMALL, 3072), np.float32), [0] * SMALL)
    with pytest.raises(CIFAR10FormatError, match=r"uint8 array .* received float32"):
        load_cifar10(folder)


def test_wrong_count(small_cifar):
    folder, _ = small_cifar
    _write_batch(folder / "test_batch", np.zeros((SMALL - 1, 3072), np.uint8), [0] * (SMALL - 1))
    with pytest.raises(CIFAR10FormatError, match=r"test_batch'.*received \(11, 3072\)"):
        load_cifar10(folder)


def test_labels_out_of_range(small_cifar):
    folder, _ = small_cifar
    _write_batch(folder / "data_batch_2", np.zeros((SMALL, 3072), np.uint8), [3] * 11 + [10])
    with pytest.raises(CIFAR10FormatError, match=r"data_batch_2'.*0\.\.9; received values "
                       r"from 3 to 10"):
        load_cifar10(folder)


def test_label_count_mismatch(small_cifar):
    folder, _ = small_cifar
    _write_batch(folder / "data_batch_2", np.zeros((SMALL, 3072), np.uint8), [3] * 5)
    with pytest.raises(CIFAR10FormatError, match=r"'labels' must be 12 ints"):
        load_cifar10(folder)


class _Call:
    """Pickles as a call of `function(*args)` (the REDUCE opcode)."""

    def __init__(self, function, args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


@pytest.mark.parametrize(
    "batch, message",
    [
        ({1: 2, b"a": 3}, r"has no 'data' entry; keys found: 'a', 1"),
        ({b"data": _Call(np.ndarray, ((10**11,), "i8")), b"labels": [0] * SMALL},
         "refusing to call 'ndarray'"),
        ({b"data": np.zeros((SMALL, 3072), np.uint8), b"labels": [[0] * SMALL] * SMALL},
         r"'labels' must be 12 ints; received a list of 12 list"),
        ({b"data": np.zeros((SMALL, 3072), np.uint8), b"labels": [0] * 20},
         r"a list longer than the 12 items of a batch"),
        ({b"data": np.zeros((SMALL, 3072), np.uint8), b"labels": [True] * SMALL},
         r"'labels' must be 12 ints; received a list of 12 bool"),
        ({b"data": np.array([None, 1], dtype=object), b"labels": [0] * SMALL},
         r"refusing dtype 'O8'"),
        ({b"data": np.zeros((SMALL + 1, 3072), np.uint8), b"labels": [0] * SMALL},
         r"\(13, 3072\) \(39,936 values\) is larger than a batch's pixels"),
        ({b"data": np.zeros((SMALL, 3072), np.uint8), b"labels": "x" * 2_000_000},
         r"a text of 1,048,577 bytes"),
    ],
    ids=["mixed keys", "ndarray((10**11,))", "shared lists", "long list", "bools",
         "object dtype", "too many pixels", "long text"],
)
def test_crafted_batches_are_refused_before_anything_large_is_built(small_cifar, batch,
                                                                     message):
    folder, _ = small_cifar
    (folder / "data_batch_1").write_bytes(pickle.dumps(batch, protocol=4))
    with pytest.raises(CIFAR10FormatError, match=r"data_batch_1'.*" + message):
        load_batch(folder / "data_batch_1")


def test_labels_stored_as_an_array_are_read(small_cifar):
    folder, contents = small_cifar
    pixels, labels = contents["test_batch"]
    batch = {b"data": pixels, b"labels": np.asarray(labels, dtype=np.int64)}
    (folder / "test_batch").write_bytes(pickle.dumps(batch, protocol=4))
    np.testing.assert_array_equal(load_batch(folder / "test_batch")[1], labels)


def test_a_file_too_large_to_be_a_batch_is_refused_unread(small_cifar):
    folder, _ = small_cifar
    with open(folder / "data_batch_2", "wb") as handle:
        handle.truncate(data.MAX_BATCH_FILE_BYTES + 1)  # sparse: nothing written
    with pytest.raises(CIFAR10FormatError, match=r"data_batch_2' is 40,000,001 bytes, more "
                       "than the 40,000,000"):
        load_batch(folder / "data_batch_2")


def test_a_folder_is_not_a_batch(small_cifar):
    folder, _ = small_cifar
    (folder / "data_batch_3").unlink()
    (folder / "data_batch_3").mkdir()
    with pytest.raises(CIFAR10FormatError, match=r"data_batch_3' is not a regular file"):
        load_batch(folder / "data_batch_3")


def test_offline_without_local_copy_gives_one_clear_message(monkeypatch, tmp_path):
    import pooch

    def no_network(*args, **kwargs):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(pooch.Pooch, "fetch", no_network)
    with pytest.raises(CIFAR10NotFoundError, match=r"could not be downloaded.*CIFAR10_DIR") as info:
        load_cifar10()
    assert info.value.__cause__ is None and info.value.__suppress_context__


STALL_SCRIPT = """
import socket, sys, time
from cifar_helpers import data
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(8)
port = server.getsockname()[1]
start = time.perf_counter()
try:
    data._download(url=f"http://127.0.0.1:{port}/cifar-10-python.tar.gz", timeout=1)
except data.CIFAR10NotFoundError as exc:
    print("refused:", exc)
print(f"seconds {time.perf_counter() - start:.1f}")
"""


def test_download_from_a_server_that_never_answers_gives_up(tmp_path):
    # The server accepts the connection and never sends a byte. Without a timeout
    # the download would wait forever; run it in a child so a hang fails the test.
    env = {**os.environ, "KERAS_HOME": str(tmp_path)}
    env.pop("CIFAR10_DIR", None)
    done = subprocess.run([sys.executable, "-c", STALL_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=120)
    assert "refused: CIFAR-10 was not found locally and could not be downloaded" in done.stdout
    assert "timed out" in done.stdout.lower() or "timeout" in done.stdout.lower(), done.stdout
    assert "CIFAR10_DIR" in done.stdout
    assert not list(tmp_path.rglob("*.tar.gz"))  # no half-downloaded archive left behind


def _serve(folder):
    """An HTTP server for `folder` on a free loopback port, in a thread; returns it."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture()
def archive_server(tmp_path):
    """A tiny cifar-10-python.tar.gz (one file inside) served on loopback, and its SHA-256."""
    import hashlib
    import tarfile

    source = tmp_path / "source" / "cifar-10-batches-py"
    source.mkdir(parents=True)
    (source / "batches.meta").write_bytes(b"not used")
    served = tmp_path / "served"
    served.mkdir()
    with tarfile.open(served / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(source, arcname="cifar-10-batches-py")
    digest = hashlib.sha256((served / "cifar-10-python.tar.gz").read_bytes()).hexdigest()
    server = _serve(served)
    yield f"http://127.0.0.1:{server.server_address[1]}/cifar-10-python.tar.gz", digest
    server.shutdown()


def test_download_checks_the_archive_and_unpacks_it_into_the_keras_cache(
        archive_server, tmp_path, monkeypatch):
    url, digest = archive_server
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    folder = data._download(url=url, known_hash=digest, timeout=5)
    assert folder == tmp_path / "keras" / "datasets" / "cifar-10-batches-py-target" / \
        "cifar-10-batches-py"
    assert (folder / "batches.meta").read_bytes() == b"not used"


def test_download_with_the_wrong_checksum_is_refused(archive_server, tmp_path, monkeypatch):
    url, digest = archive_server
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(CIFAR10NotFoundError, match=r"could not be downloaded .*hash"):
        data._download(url=url, known_hash="0" * 64, timeout=5)
    assert not list((tmp_path / "keras").rglob("batches.meta"))


def test_real_cifar10_matches_keras_loader(cifar10_dir):
    """Our loader against Keras' own batch reader, on the real files."""
    from keras.src.datasets.cifar import load_batch as keras_load_batch

    (x_train, y_train), (x_test, y_test) = load_cifar10(cifar10_dir)
    assert (x_train.shape, x_train.dtype) == ((50000, 32, 32, 3), np.uint8)
    assert (y_train.shape, y_train.dtype) == ((50000, 1), np.uint8)
    assert (x_test.shape, x_test.dtype) == ((10000, 32, 32, 3), np.uint8)
    assert (y_test.shape, y_test.dtype) == ((10000, 1), np.uint8)
    keras_images, keras_labels = keras_load_batch(str(cifar10_dir / "test_batch"))
    np.testing.assert_array_equal(x_test, keras_images.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_test[:, 0], keras_labels)
    assert np.bincount(y_train[:, 0]).tolist() == [5000] * 10
    assert np.bincount(y_test[:, 0]).tolist() == [1000] * 10


def test_load_batch_reports_labels(cifar10_dir):
    images, labels = load_batch(cifar10_dir / "data_batch_1")
    # Published per-class counts of the official data_batch_1.
    assert np.bincount(labels).tolist() == [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]
    assert images.shape == (10000, 32, 32, 3)


def test_scale_pixels():
    out = scale_pixels(np.array([[0, 255]], dtype=np.uint8))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0.0, 1.0]])
    with pytest.raises(ValueError, match=r"uint8 array .* Received dtype=float32"):
        scale_pixels(out)


def test_one_hot():
    np.testing.assert_array_equal(one_hot(np.array([[1], [9]])), np.eye(10)[[1, 9]])
    assert one_hot([0, 1], num_classes=2).dtype == np.float32
    with pytest.raises(ValueError, match=r"0\.\.9 .* Received values from 0 to 10"):
        one_hot([0, 10])
    with pytest.raises(ValueError, match=r"integers of shape \(N,\) or \(N, 1\)"):
        one_hot([0.5, 1.0])


def test_subset_per_class_is_balanced_and_deterministic():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, size=(500, 1)).astype(np.uint8)
    images = np.arange(500)
    x1, y1 = subset_per_class(images, labels, 7, seed=3)
    x2, y2 = subset_per_class(images, labels, 7, seed=3)
    x3, _ = subset_per_class(images, labels, 7, seed=4)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)
    assert np.bincount(y1[:, 0]).tolist() == [7] * 10
    assert y1.shape == (70, 1)
    np.testing.assert_array_equal(labels[x1], y1)  # images and labels stay paired
    assert np.all(np.diff(x1) > 0)  # original order kept


@pytest.mark.parametrize(
    ("n", "labels", "message"),
    [
        (0, np.zeros(4, int), r"positive int\. Received 0"),
        (3, np.array([0, 0, 1, 1]), r"more than the 2 examples of class 0"),
        (1, np.zeros(3, int), r"N = len\(images\) = 4"),
    ],
)
def test_subset_per_class_errors(n, labels, message):
    with pytest.raises(ValueError, match=message):
        subset_per_class(np.arange(4), labels, n)


def test_data_module_does_not_import_tensorflow():
    code = ("import sys, cifar_helpers.data, cifar_helpers.config, cifar_helpers.photos; "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
