"""Reliability across modules: real kills, memory and time limits, crafted files.

Each test runs the code under test in a child process, so that it can be
killed with SIGKILL, or held to a memory limit (``RLIMIT_AS``, counted from the
child's size after its imports) and a CPU-time measure: a crafted file must be
refused quickly and cheaply, not after filling the memory.
"""

import json
import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(),
                                reason="memory limits are measured with Linux's /proc")

ROOT = Path(__file__).resolve().parent.parent

# Run first in every child: quiet TensorFlow, one BLAS thread, and a helper that
# caps the address space at the current size plus `extra_mb`.
PRELUDE = textwrap.dedent("""
    import os, resource, sys, time
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

    def limit_memory(extra_mb):
        with open("/proc/self/status") as status:
            size = next(int(line.split()[1]) for line in status if line.startswith("VmSize"))
        cap = size * 1024 + extra_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
""")


def _child(code, *args, timeout=300, **popen):
    """Run `code` (after PRELUDE) in a fresh Python; return the CompletedProcess."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(code), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT,
                          **popen)


def _last_json(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- a run killed with SIGKILL resumes exactly -----------------------------------------------

TRAINING = """
    import json, sys, time
    import numpy as np
    import keras
    from cifar_helpers.training import train

    mode, backup, out = sys.argv[1:]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((8, 8, 3)),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"],
                  optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(80, 8, 8, 3), dtype=np.uint8)
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, size=80)]

    class WaitForTheKill(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if mode == "killed" and epoch == 0:  # epoch 1 is backed up by now
                print("epoch 1 backed up", flush=True)
                time.sleep(600)

    history = train(model, x, y, epochs=3, batch_size=16, seed=0, verbose=False,
                    backup_dir=None if mode == "uninterrupted" else backup,
                    callbacks=[WaitForTheKill()])
    np.savez(out, *model.get_weights())
    print(json.dumps(history.history["loss"]))
"""


def test_a_run_killed_with_sigkill_resumes_to_the_weights_of_an_uninterrupted_run(tmp_path):
    backup = tmp_path / "backup"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    killed = subprocess.Popen(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(TRAINING), "killed", str(backup),
         str(tmp_path / "never.npz")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT,
    )
    try:
        assert killed.stdout.readline().strip() == "epoch 1 backed up"
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert (backup / "latest.weights.h5").is_file()

    resumed = _child(TRAINING, "resumed", backup, tmp_path / "resumed.npz")
    straight = _child(TRAINING, "uninterrupted", backup, tmp_path / "straight.npz")
    assert _last_json(resumed) == pytest.approx(_last_json(straight), rel=1e-6)
    with np.load(tmp_path / "resumed.npz") as a, np.load(tmp_path / "straight.npz") as b:
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name])
    assert not backup.exists()


# --- a save killed with SIGKILL leaves nothing behind for long -------------------------------

SAVING = """
    import sys, time
    import keras
    from cifar_helpers.saving import save_model

    model = keras.Sequential([keras.Input((50,)), keras.layers.Dense(20)])
    model.compile(optimizer="adam", loss="mse")

    def slow_save(filepath, *args, **kwargs):
        with open(filepath, "wb") as handle:
            handle.write(b"PK half a model" * 1000)
        print("writing", flush=True)
        time.sleep(600)

    model.save = slow_save
    save_model(model, sys.argv[1])
"""


def test_the_next_save_removes_the_temporary_file_of_a_killed_save(tmp_path):
    keras = pytest.importorskip("keras")
    from cifar_helpers.saving import save_model

    target = tmp_path / "model.keras"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", PRELUDE + textwrap.dedent(SAVING),
                              str(target)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, env=env, cwd=ROOT)
    try:
        assert child.stdout.readline().strip() == "writing"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    orphans = [p.name for p in tmp_path.iterdir() if p.name.startswith(".cifar-save-")]
    assert len(orphans) == 1 and not target.exists()

    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])
    save_model(model, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


# --- crafted CIFAR-10 batches: refused in well under a second, within 200 MB -------------------


class _Call:
    """Pickles as a call of `function(*args)` (the REDUCE opcode)."""

    def __init__(self, function, args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def _crafted_batches(folder):
    labels = [0] * 10_000
    pixels = np.zeros((10_000, 3072), dtype=np.uint8)
    shared = list(range(10)) * 1_000
    batches = {
        "ndarray_called": {b"data": _Call(np.ndarray, ((10**11,), "i8")), b"labels": labels},
        "shared_labels": {b"data": pixels, b"labels": [shared] * 10_000},  # 10^8 ints
        "object_array": {b"data": np.array([None] * 4, dtype=object), b"labels": labels},
        "mixed_keys": {1: 2, b"a": 3},
    }
    for name, batch in batches.items():
        (folder / name).write_bytes(pickle.dumps(batch, protocol=4))
    arguments = pickle.dumps(((10**11,), "i8"), protocol=2)[2:-1]
    raw = {
        # ndarray.__new__(ndarray, (10**11,), "i8"): the NEWOBJ opcode, 745 GiB.
        "ndarray_new": b"\x80\x02}(U\x04datacnumpy\nndarray\n" + arguments + b"\x81u.",
        # 20 MB of empty lists: ~1.4 GB of Python objects for a plain unpickler.
        "empty_lists": b"\x80\x02}q\x00(U\x06labelsq\x01(" + b"]" * 20_000_000 + b"eu.",
        # A memo index of 2**32 - 1, and a 2**62-byte string that is not there.
        "huge_memo_index": b"\x80\x02]r\xff\xff\xff\xff.",
        "huge_bytes8": b"\x80\x04\x8e" + (2**62).to_bytes(8, "little") + b"abc.",
    }
    for name, data in raw.items():
        (folder / name).write_bytes(data)
    with open(folder / "too_big", "wb") as handle:  # sparse: 45 MB on paper, nothing on disk
        handle.truncate(45_000_000)
    return [*batches, *raw, "too_big"]


def test_crafted_batches_are_refused_quickly_within_200_mb(tmp_path, cifar10_dir):
    names = _crafted_batches(tmp_path)
    result = _child("""
        import json, sys
        from pathlib import Path
        from cifar_helpers.data import CIFAR10FormatError, load_batch

        folder, real = Path(sys.argv[1]), Path(sys.argv[2])
        limit_memory(250)  # a real batch is 31 MB, read and turned into 31 MB of images
        report = {}
        load_batch(real)   # the real thing fits in the same limit
        for name in sys.argv[3:]:
            start = time.process_time()
            try:
                load_batch(folder / name)
                outcome = "loaded"
            except CIFAR10FormatError as exc:
                outcome = str(exc)
            report[name] = [outcome, time.process_time() - start]
        print(json.dumps(report))
    """, tmp_path, cifar10_dir / "data_batch_1", *names)
    report = _last_json(result)
    for name in names:
        message, seconds = report[name]
        assert message.startswith(f"CIFAR-10 batch file '{tmp_path / name}'"), (name, message)
        assert seconds < 1.0, (name, seconds)
    assert "'labels' must be 10000 ints" in report["shared_labels"][0]
    assert "keys found: 'a', 1" in report["mixed_keys"][0]
    assert "45,000,000 bytes" in report["too_big"][0]


# --- photos: loaded within 2 s of CPU and 500 MB, or refused with their size -------------------


def test_photos_load_within_limits_or_are_refused_with_their_pixel_count(tmp_path):
    result = _child("""
        import json, sys
        import numpy as np
        from pathlib import Path
        from PIL import Image
        from cifar_helpers.photos import ImageLoadError, load_image

        folder = Path(sys.argv[1])
        side = 6320  # 39.9 megapixels: just under MAX_DECODE_PIXELS
        ramp = np.add.outer(np.arange(side) // 25, np.arange(side) // 25).astype(np.uint8)
        Image.fromarray(np.dstack([ramp] * 4)).save(folder / "rgba.png", compress_level=1)
        Image.fromarray(ramp).quantize(16).save(folder / "palette.png", transparency=0,
                                                compress_level=1)
        Image.fromarray(np.dstack([ramp] * 3)).save(folder / "big.jpg", quality=80)
        big = np.zeros((9400, 9400), dtype=np.uint16)  # the tester's 172 kB, 16-bit PNG
        Image.fromarray(big).save(folder / "sixteen.png", compress_level=9)
        del ramp, big
        limit_memory(500)
        report = {}
        for name in ("rgba.png", "palette.png", "big.jpg", "sixteen.png"):
            for size in ((32, 32), None):
                start = time.process_time()
                try:
                    outcome = list(load_image(folder / name, size=size).shape)
                except ImageLoadError as exc:
                    outcome = str(exc)
                report[f"{name} {size}"] = [outcome, time.process_time() - start]
        print(json.dumps(report))
    """, tmp_path)
    report = _last_json(result)
    for key, (outcome, seconds) in report.items():
        assert seconds < 2.0, (key, seconds)
        if key.startswith("sixteen.png"):
            assert "9400 x 9400 = 88,360,000 pixels" in outcome and "40,000,000" in outcome
        else:
            assert outcome in ([32, 32, 3], [512, 512, 3]), (key, outcome)


# --- a .keras "zip bomb": refused before it inflates --------------------------------------------


def test_a_model_archive_that_inflates_to_gigabytes_is_refused_at_once(tmp_path):
    import zipfile

    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", '{"keras_version": "3.0.0"}')
        with archive.open("config.json", "w", force_zip64=True) as member:
            member.write(b'{"class_name": "Sequential", "config": {}, "padding": "')
            chunk = b" " * 2**24
            for _ in range(16):  # 256 MB of spaces in about 256 kB
                member.write(chunk)
            member.write(b'"}')
        archive.writestr("model.weights.h5", b"")
    assert bomb.stat().st_size < 2**20
    result = _child("""
        import json, sys
        limit_memory(200)
        from cifar_helpers.saving import load_model
        start = time.process_time()
        try:
            load_model(sys.argv[1])
            outcome = "loaded"
        except ValueError as exc:
            outcome = str(exc)
        print(json.dumps([outcome, time.process_time() - start, "tensorflow" in sys.modules]))
    """, bomb)
    outcome, seconds, tensorflow_loaded = _last_json(result)
    assert re.search(r"'config.json' inflates from [\d,]+ to 268,43\d,\d{3} bytes", outcome)
    assert seconds < 1.0 and not tensorflow_loaded


# --- huge requests to the NumPy helpers: refused before allocating ------------------------------


def _huge_requests():
    from cifar_helpers.augmentation import random_crop, random_flip, shift_images
    from cifar_helpers.filters import apply_filter
    from cifar_helpers.windows import pad_image

    # Views of one value: big on paper, nothing in memory.
    photo = np.broadcast_to(np.uint8(7), (20_000, 20_000, 3))
    batch = np.broadcast_to(np.float64(0.5), (30_000, 32, 32, 3))
    return {
        "apply_filter": (lambda: apply_filter(photo, "sharpen"), "9.6 GB"),
        "random_crop": (lambda: random_crop(batch, pad=31), "6.4 GB"),
        "shift_images": (lambda: shift_images(batch, 31, -31), "6.4 GB"),
        "random_flip": (lambda: random_flip(np.broadcast_to(np.float64(0), (90_000, 32, 32, 3)),
                                            seed=0), "2.2 GB"),
        "pad_image": (lambda: pad_image(np.ones((32, 32)), 3, padding=26_000), "21.7 GB"),
    }


@pytest.mark.parametrize("name", list(_huge_requests()))
def test_huge_requests_are_refused_at_once_naming_their_size(name):
    call, size = _huge_requests()[name]
    with pytest.raises(ValueError, match=rf"must fit in 2\.1 GB \(MAX_OUTPUT_BYTES\)\. "
                       rf"Received a request for shape .*: {re.escape(size)}\."):
        call()


def test_check_output_size_counts_with_python_integers(monkeypatch):
    from cifar_helpers import _validation
    from cifar_helpers._validation import check_output_size

    assert check_output_size((2**20, 2**10), 2, "x") == 2**31  # exactly 2 GiB: allowed
    with pytest.raises(ValueError, match=r"`x` must fit"):
        check_output_size((2**20, 2**10 + 1), 2, "x")
    with pytest.raises(ValueError, match=r"\(4294967296, 4294967296\)"):  # no int64 wrap
        check_output_size((2**32, 2**32), 8, "x")
    monkeypatch.setattr(_validation, "MAX_OUTPUT_BYTES", 100)
    with pytest.raises(ValueError, match=r"must fit in 0\.0 GB"):
        check_output_size((101,), 1, "x")
