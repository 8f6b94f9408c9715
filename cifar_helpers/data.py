"""Load CIFAR-10 safely, and the small array helpers every notebook needs.

`load_cifar10` returns exactly what ``keras.datasets.cifar10.load_data()``
returns (uint8 channels-last images, ``(N, 1)`` uint8 labels), but it also reads
a local copy of the official ``cifar-10-batches-py`` folder, so the course works
offline. The batches are pickles, so they are read with a restricted unpickler
that can only rebuild NumPy arrays: a tampered file cannot run code, and
checking every size before it builds anything, it cannot ask for gigabytes
either (a crafted file is refused in a fraction of a second).

This module imports NumPy only; Keras is imported just before a download.
"""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import numpy as np

__all__ = [
    "CIFAR10_DIR_ENV",
    "CLASS_NAMES",
    "CIFAR10FormatError",
    "CIFAR10NotFoundError",
    "find_cifar10_dir",
    "load_batch",
    "load_cifar10",
    "one_hot",
    "scale_pixels",
    "subset_per_class",
    "unit_pixels",
]

#: The ten CIFAR-10 classes, in label order (label 0 is "airplane").
CLASS_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

#: Environment variable naming a local ``cifar-10-batches-py`` folder.
CIFAR10_DIR_ENV = "CIFAR10_DIR"

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
IMAGES_PER_BATCH = 10_000
IMAGE_SHAPE = (32, 32, 3)
_PIXELS = 32 * 32 * 3

#: The largest batch file `load_batch` reads: the official ones are 31 MB.
MAX_BATCH_FILE_BYTES = 40_000_000
# A batch pickle has about 20,000 opcodes (one per label and per file name); the cap
# bounds the Python objects a crafted file can make (each opcode makes at most one).
_MAX_OPCODES = 200_000
# Longest text a batch holds (its keys and file names are a few dozen characters).
_MAX_TEXT_BYTES = 1 << 20
# Plain numeric dtypes (a batch uses uint8; others get a clear message later). No objects.
_ALLOWED_DTYPES = ("u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "b1", "f2", "f4", "f8")


class CIFAR10FormatError(ValueError):
    """A CIFAR-10 batch file is missing, truncated, corrupted or has the wrong content."""


class CIFAR10NotFoundError(FileNotFoundError):
    """No local copy of CIFAR-10 was found and it could not be downloaded."""


class _Refused(pickle.UnpicklingError):
    """The pickle asked for something a CIFAR-10 batch never holds."""


def _largest_array():
    """Values in the largest array a batch holds: its pixels, IMAGES_PER_BATCH rows of 3,072."""
    return IMAGES_PER_BATCH * _PIXELS


def _text_items(values):
    """`values` (a tuple) with bytes decoded: Python 2 pickles hold ``str`` as bytes."""
    return tuple(v.decode("latin1") if isinstance(v, bytes) else v for v in values)


def _numpy_dtype(spec, align=False, copy=True):
    """``numpy.dtype`` for plain numeric dtypes only (never objects)."""
    (spec,) = _text_items((spec,))
    if not isinstance(spec, str) or spec not in _ALLOWED_DTYPES:
        raise _Refused(f"refusing dtype {spec!r}: a CIFAR-10 batch holds only numeric arrays")
    return np.dtype(spec)


def _reconstruct(subtype, shape, typecode):
    """NumPy's ``_reconstruct`` for a plain ndarray whose size fits a batch."""
    if subtype is not np.ndarray or not isinstance(shape, tuple) or not all(
        type(n) is int and n >= 0 for n in shape
    ) or int(np.prod(shape, dtype=object)) > _largest_array():
        raise _Refused(f"refusing to rebuild an array of type {subtype!r} and shape {shape!r}")
    return np.ndarray.__new__(np.ndarray, shape, np.dtype(np.uint8))


def _check_array_state(state):
    """An ndarray's pickled state, if its shape, dtype and bytes agree and fit a batch."""
    if not (isinstance(state, tuple) and len(state) == 5):
        raise _Refused("an array's state must be (version, shape, dtype, order, bytes)")
    _, shape, dtype, _, raw = state
    if not isinstance(dtype, np.dtype) or dtype.str[1:] not in _ALLOWED_DTYPES:
        raise _Refused(f"refusing an array of dtype {dtype!r}")
    if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
        raise _Refused(f"an array's shape must be a tuple of sizes; received {shape!r}")
    count = int(np.prod(shape, dtype=object))
    if count > _largest_array():
        raise _Refused(
            f"an array of shape {shape} ({count:,} values) is larger than a batch's pixels "
            f"({IMAGES_PER_BATCH} rows of {_PIXELS} values)"
        )
    size = count * dtype.itemsize
    if not isinstance(raw, bytes) or len(raw) != size:
        raise _Refused(
            f"an array of shape {shape} and dtype {dtype} needs {size:,} bytes; received "
            f"{len(raw) if isinstance(raw, bytes) else type(raw).__name__}"
        )
    return state


# Globals a CIFAR-10 batch pickle may name: NumPy array reconstruction, checked.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _numpy_dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
}


class _BoundedFile:
    """A file whose reads never ask for more bytes than it has left.

    A crafted length prefix (``BINBYTES8`` of 2**62 bytes) would otherwise make
    the reader allocate that much before finding the file short.
    """

    def __init__(self, file, size):
        self._file, self._size = file, size

    def _cap(self, n):
        left = max(self._size - self._file.tell(), 0)
        return left if n is None or n < 0 else min(n, left)

    def read(self, n=-1):
        return self._file.read(self._cap(n))

    def readinto(self, buffer):
        if len(buffer) > self._cap(len(buffer)):
            raise EOFError("pickle data was truncated")
        return self._file.readinto(buffer)

    def readline(self):
        return self._file.readline(_MAX_TEXT_BYTES + 2)


def _counted(step):
    def counted(self):
        self.opcodes += 1
        if self.opcodes > _MAX_OPCODES:
            raise _Refused(f"more than {_MAX_OPCODES:,} pickle opcodes (a batch has ~20,000)")
        step(self)

    return counted


class _BatchUnpickler(pickle._Unpickler):
    """Unpickler that can only rebuild what a CIFAR-10 batch holds, at a bounded cost.

    It refuses every global except NumPy array reconstruction, checks each
    array's shape, dtype and byte count before making it (no array larger than
    a batch's pixels), caps lists at `IMAGES_PER_BATCH` items, text at 1 MB
    and the number of opcodes, so a crafted file of a few kilobytes cannot ask
    for gigabytes. It is the pure-Python unpickler (its memo is a dict, not an
    array sized by the file), with these opcodes replaced.
    """

    dispatch = {code: _counted(step) for code, step in pickle._Unpickler.dispatch.items()}
    opcodes = 0

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return _ALLOWED_GLOBALS[module, name]
        raise _Refused(
            f"refusing to load global '{module}.{name}': a CIFAR-10 batch holds only "
            "NumPy arrays, lists, ints and bytes"
        )

    def _refuse(self):
        raise _Refused("it uses pickle opcodes that build arbitrary objects")

    def _load_reduce(self):
        args = self.stack.pop()
        function = self.stack[-1]
        if function not in (_numpy_dtype, _reconstruct) or not isinstance(args, tuple):
            raise _Refused(f"refusing to call {getattr(function, '__name__', function)!r}")
        self.stack[-1] = function(*args)

    def _load_build(self):
        state = self.stack.pop()
        target = self.stack[-1]
        if type(target) is np.ndarray:
            target.__setstate__(_check_array_state(state))
        elif not (isinstance(target, np.dtype) and isinstance(state, tuple)
                  and _text_items(state) == target.__reduce__()[2]):
            raise _Refused(f"refusing to set the state of a {type(target).__name__}")

    def _extend(self, items):
        target = self.stack[-1]
        if type(target) is not list:
            raise _Refused(f"refusing to append to a {type(target).__name__}")
        if len(target) + len(items) > IMAGES_PER_BATCH:
            raise _Refused(f"a list longer than the {IMAGES_PER_BATCH} items of a batch")
        target.extend(items)

    def _load_append(self):
        self._extend([self.stack.pop()])

    def _load_appends(self):
        self._extend(self.pop_mark())

    def _text(self, raw):
        if len(raw) > _MAX_TEXT_BYTES:
            raise _Refused(f"a text of {len(raw):,} bytes (a batch's are a few dozen)")
        return raw

    def _load_binunicode(self, size_format="<I"):
        (length,) = struct.unpack(size_format, self.read(struct.calcsize(size_format)))
        self.append(str(self._text(self.read(min(length, _MAX_TEXT_BYTES + 1))), "utf-8",
                        "surrogatepass"))

    def _load_unicode(self):
        self.append(str(self._text(self.readline()[:-1]), "raw-unicode-escape"))


for _opcode, _step in {
    pickle.REDUCE: _BatchUnpickler._load_reduce,
    pickle.BUILD: _BatchUnpickler._load_build,
    pickle.APPEND: _BatchUnpickler._load_append,
    pickle.APPENDS: _BatchUnpickler._load_appends,
    pickle.BINUNICODE: _BatchUnpickler._load_binunicode,
    pickle.BINUNICODE8: lambda self: _BatchUnpickler._load_binunicode(self, "<Q"),
    pickle.UNICODE: _BatchUnpickler._load_unicode,
    **dict.fromkeys(
        (pickle.NEWOBJ, pickle.NEWOBJ_EX, pickle.OBJ, pickle.INST, pickle.PERSID,
         pickle.BINPERSID, pickle.EXT1, pickle.EXT2, pickle.EXT4, pickle.NEXT_BUFFER),
        _BatchUnpickler._refuse,
    ),
}.items():
    _BatchUnpickler.dispatch[_opcode[0]] = _counted(_step)


def _bad(path, problem):
    return CIFAR10FormatError(f"CIFAR-10 batch file '{path}' {problem}")


def _batch_labels(path, labels):
    """The batch's labels as a uint8 array, checked before NumPy sees them.

    A list must be `IMAGES_PER_BATCH` plain ints: checking that first keeps a
    crafted list of shared lists (a few kB of pickle) from becoming gigabytes.
    """
    if isinstance(labels, list):
        if len(labels) != IMAGES_PER_BATCH or not all(type(v) is int for v in labels):
            kinds = sorted({type(v).__name__ for v in labels})
            raise _bad(
                path,
                f"'labels' must be {IMAGES_PER_BATCH} ints; received a list of "
                f"{len(labels)} {'/'.join(kinds) or 'items'}",
            )
        labels = np.array(labels, dtype=np.int64)
    elif not isinstance(labels, np.ndarray):
        raise _bad(path, f"'labels' must be a list of ints; received {type(labels).__name__}")
    if labels.shape != (IMAGES_PER_BATCH,) or not np.issubdtype(labels.dtype, np.integer):
        raise _bad(
            path,
            f"'labels' must be {IMAGES_PER_BATCH} ints; received {labels.dtype} "
            f"values of shape {labels.shape}",
        )
    if labels.min() < 0 or labels.max() >= len(CLASS_NAMES):
        raise _bad(
            path,
            f"'labels' must lie in 0..{len(CLASS_NAMES) - 1}; "
            f"received values from {labels.min()} to {labels.max()}",
        )
    return labels


def load_batch(path):
    """Read one ``cifar-10-batches-py`` batch file.

    Parameters
    ----------
    path : str or path-like
        A batch file such as ``data_batch_1`` or ``test_batch``.

    Returns
    -------
    images : (10000, 32, 32, 3) uint8 ndarray
        Channels-last images.
    labels : (10000,) uint8 ndarray
        Labels in ``0 .. 9``.

    Raises
    ------
    CIFAR10FormatError
        If the file is missing, larger than `MAX_BATCH_FILE_BYTES`, truncated,
        not a pickle of NumPy data, or its arrays have the wrong shape, dtype,
        count or label range. The message names the file and what was expected.

    Notes
    -----
    The pickle is read by a restricted unpickler (`_BatchUnpickler`) that can
    only rebuild NumPy arrays, lists, ints and bytes, and checks every size
    before it builds anything: a crafted file is refused in well under a
    second, without allocating more than a real batch needs.
    """
    path = Path(path)
    if not path.is_file():
        what = "is not a regular file" if path.exists() else "does not exist"
        raise _bad(path, f"{what} (expected a file of the official layout)")
    size = path.stat().st_size
    if size > MAX_BATCH_FILE_BYTES:
        raise _bad(
            path,
            f"is {size:,} bytes, more than the {MAX_BATCH_FILE_BYTES:,} a batch can be "
            "(the official ones are about 31 MB)",
        )
    try:
        with path.open("rb") as file:
            batch = _BatchUnpickler(_BoundedFile(file, size), encoding="bytes").load()
    except _Refused as exc:
        raise _bad(path, f"is not a valid CIFAR-10 pickle: {exc}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, struct.error, MemoryError, RecursionError) as exc:
        raise _bad(
            path,
            f"is truncated or corrupted ({size:,} bytes; a batch is about 31 MB): "
            f"{type(exc).__name__}: {str(exc)[:200]}",
        ) from None
    if not isinstance(batch, dict):
        raise _bad(path, f"must hold a dict; received {type(batch).__name__}")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    for key in ("data", "labels"):
        if key not in batch:
            found = ", ".join(sorted(repr(k)[:40] for k in batch)[:10])
            raise _bad(path, f"has no '{key}' entry; keys found: {found or 'none'}")
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        received = (
            f"{data.dtype} array of shape {data.shape}"
            if isinstance(data, np.ndarray)
            else type(data).__name__
        )
        raise _bad(path, f"'data' must be a uint8 array of shape (N, 3072); received {received}")
    if data.shape[1] != _PIXELS or data.shape[0] != IMAGES_PER_BATCH:
        raise _bad(
            path,
            f"'data' must have shape ({IMAGES_PER_BATCH}, {_PIXELS}); received {data.shape}",
        )
    labels = _batch_labels(path, batch["labels"])
    # Official byte order: R plane, G plane, B plane, each row by row.
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.uint8)


def _keras_cache_dirs():
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()
    datasets = home / "datasets"
    # Keras 3 extracts into "...-target/"; Keras 2 extracted next to the archive.
    return [
        datasets / "cifar-10-batches-py-target" / "cifar-10-batches-py",
        datasets / "cifar-10-batches-py",
    ]


def find_cifar10_dir(data_dir=None):
    """Return the local ``cifar-10-batches-py`` folder to read, or ``None``.

    The order is: the `data_dir` argument, else the ``CIFAR10_DIR`` environment
    variable, else a copy already in Keras' cache (``$KERAS_HOME/datasets``).

    Raises
    ------
    CIFAR10NotFoundError
        If `data_dir` or ``CIFAR10_DIR`` names a folder that does not exist
        (a typo should not silently start a 170 MB download).
    """
    env_value = os.environ.get(CIFAR10_DIR_ENV)
    for source, value in (("data_dir", data_dir), (CIFAR10_DIR_ENV, env_value)):
        if value:
            folder = Path(value).expanduser()
            if not folder.is_dir():
                raise CIFAR10NotFoundError(
                    f"{source} must name a 'cifar-10-batches-py' folder holding "
                    f"data_batch_1..5 and test_batch; received {str(value)!r}, "
                    "which is not a folder."
                )
            return folder
    for folder in _keras_cache_dirs():
        if all((folder / name).is_file() for name in (*TRAIN_BATCHES, TEST_BATCH)):
            return folder
    return None


#: Where `load_cifar10` downloads CIFAR-10 from, and the archive's SHA-256 (as Keras checks it).
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
#: Seconds a download may wait for the server before giving up.
DOWNLOAD_TIMEOUT = 30


def _download(url=CIFAR10_URL, known_hash=CIFAR10_SHA256, timeout=DOWNLOAD_TIMEOUT):
    """Download and unpack the CIFAR-10 archive into Keras' cache; return the batch folder.

    pooch checks the SHA-256, retries twice, and gives up on a server that
    stops answering after `timeout` seconds.
    """
    import pooch

    cache = _keras_cache_dirs()[0].parent  # .../datasets/cifar-10-batches-py-target
    base_url, name = url.rsplit("/", 1)
    try:
        fetcher = pooch.create(
            path=cache.parent,
            base_url=base_url + "/",
            registry={name: f"sha256:{known_hash}" if known_hash else None},
            retry_if_failed=2,
        )
        fetcher.fetch(
            name,
            processor=pooch.Untar(extract_dir=cache.name),
            downloader=pooch.HTTPDownloader(timeout=timeout, progressbar=False),
        )
    except Exception as exc:  # network, timeout, checksum and extraction errors alike
        reason = str(exc).splitlines()[0] if str(exc) else ""
        raise CIFAR10NotFoundError(
            f"CIFAR-10 was not found locally and could not be downloaded from {url} "
            f"({type(exc).__name__}: {reason}). "
            "If you are offline, copy the 'cifar-10-batches-py' folder from "
            "cifar-10-python.tar.gz to this machine and point the CIFAR10_DIR "
            "environment variable at it, e.g. "
            "export CIFAR10_DIR=/path/to/cifar-10-batches-py, "
            "or pass load_cifar10(data_dir=...)."
        ) from None
    return _keras_cache_dirs()[0]


def load_cifar10(data_dir=None):
    """Load CIFAR-10 as ``(x_train, y_train), (x_test, y_test)``.

    The result has the shapes and dtypes of ``keras.datasets.cifar10.load_data()``:
    ``x_train`` is ``(50000, 32, 32, 3)`` uint8, ``y_train`` is ``(50000, 1)`` uint8,
    ``x_test`` is ``(10000, 32, 32, 3)`` uint8, ``y_test`` is ``(10000, 1)`` uint8.

    Parameters
    ----------
    data_dir : str or path-like, optional
        A ``cifar-10-batches-py`` folder (``data_batch_1`` … ``data_batch_5``,
        ``test_batch``). If omitted, the ``CIFAR10_DIR`` environment variable is
        used, then a copy in Keras' cache, then a download into that cache
        (with pooch: SHA-256 checked, a timeout, two retries).

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuples of ndarrays

    Raises
    ------
    CIFAR10FormatError
        If a batch file is missing or damaged (the message names the file).
    CIFAR10NotFoundError
        If no local copy exists and the download fails (e.g. offline).

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = load_cifar10()  # doctest: +SKIP
    >>> x_train.shape, y_train.shape, x_train.dtype  # doctest: +SKIP
    ((50000, 32, 32, 3), (50000, 1), dtype('uint8'))
    """
    folder = find_cifar10_dir(data_dir)
    if folder is None:
        folder = _download()
    x_train = np.empty((len(TRAIN_BATCHES) * IMAGES_PER_BATCH, *IMAGE_SHAPE), dtype=np.uint8)
    y_train = np.empty((len(TRAIN_BATCHES) * IMAGES_PER_BATCH, 1), dtype=np.uint8)
    for i, name in enumerate(TRAIN_BATCHES):
        rows = slice(i * IMAGES_PER_BATCH, (i + 1) * IMAGES_PER_BATCH)
        x_train[rows], y_train[rows, 0] = load_batch(folder / name)
    x_test, labels = load_batch(folder / TEST_BATCH)
    return (x_train, y_train), (x_test, labels.reshape(-1, 1))


def scale_pixels(images):
    """Scale uint8 pixels in ``0 .. 255`` to float32 in ``[0, 1]``.

    Parameters
    ----------
    images : (..., H, W, C) uint8 ndarray

    Returns
    -------
    float32 ndarray of the same shape.

    Examples
    --------
    >>> scale_pixels(np.array([0, 51, 255], dtype=np.uint8))
    array([0. , 0.2, 1. ], dtype=float32)
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(
            "`images` must be a uint8 array of pixels in 0..255 (scale raw images "
            f"only once). Received dtype={images.dtype}."
        )
    return images.astype(np.float32) / np.float32(255.0)


def unit_pixels(images, name="images"):
    """Images as float32 in ``[0, 1]``, the way the course's models take them.

    uint8 pixels are scaled by `scale_pixels` (the one ``/ 255``); float
    images must already lie in ``[0, 1]`` and are only cast to float32.

    Parameters
    ----------
    images : uint8 or float ndarray
    name : str
        The argument's name, for error messages.

    Returns
    -------
    float32 ndarray of the same shape.

    Raises
    ------
    ValueError
        For another dtype (uint16, int, bool…), NaN or infinite values, floats
        outside ``[0, 1]``, or an empty array.

    Examples
    --------
    >>> unit_pixels(np.array([0, 255], dtype=np.uint8))
    array([0., 1.], dtype=float32)
    >>> unit_pixels(np.array([0.5, 2.0]), name="x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `x` must be uint8 pixels in 0..255 or floats in [0, 1]. Received floats from 0.5 ...
    """
    images = np.asarray(images)
    if images.size == 0:
        raise ValueError(f"`{name}` must not be empty. Received shape {images.shape}.")
    if images.dtype == np.uint8:
        return scale_pixels(images)
    expected = f"`{name}` must be uint8 pixels in 0..255 or floats in [0, 1]."
    if images.dtype.kind != "f":
        raise ValueError(f"{expected} Received dtype {images.dtype}.")
    finite = np.isfinite(images)
    if not finite.all():
        raise ValueError(
            f"{expected} Received {int(np.isnan(images).sum())} NaN and "
            f"{int(np.isinf(images).sum())} infinite value(s)."
        )
    low, high = float(images.min()), float(images.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(f"{expected} Received floats from {low:g} to {high:g}.")
    return images.astype(np.float32, copy=False)


def one_hot(labels, num_classes=10):
    """Turn integer labels into one-hot float32 rows.

    Parameters
    ----------
    labels : (N,) or (N, 1) int ndarray
    num_classes : int

    Returns
    -------
    (N, num_classes) float32 ndarray

    Examples
    --------
    >>> one_hot([2, 0], num_classes=3)
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    """
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or (labels.size and not np.issubdtype(labels.dtype, np.integer)):
        raise ValueError(
            "`labels` must be integers of shape (N,) or (N, 1). "
            f"Received dtype={labels.dtype}, shape={labels.shape}."
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"`labels` must lie in 0..{num_classes - 1} for num_classes={num_classes}. "
            f"Received values from {labels.min()} to {labels.max()}."
        )
    return np.eye(num_classes, dtype=np.float32)[labels]


def subset_per_class(images, labels, n_per_class, seed=0):
    """Pick `n_per_class` examples of every class, deterministically.

    Parameters
    ----------
    images : (N, ...) ndarray
    labels : (N,) or (N, 1) int ndarray
    n_per_class : int
        How many examples of each class to keep.
    seed : int
        Seed of the random choice; the same seed gives the same subset.

    Returns
    -------
    images, labels : ndarrays
        The chosen examples, in their original order, labels in the input's shape.

    Examples
    --------
    >>> x = np.arange(6)
    >>> y = np.array([0, 1, 0, 1, 0, 1])
    >>> x_small, y_small = subset_per_class(x, y, 1, seed=0)
    >>> np.bincount(y_small)
    array([1, 1])
    """
    images, labels = np.asarray(images), np.asarray(labels)
    flat = labels.reshape(-1) if labels.ndim == 2 and labels.shape[1] == 1 else labels
    if flat.ndim != 1 or len(flat) != len(images):
        raise ValueError(
            "`labels` must have shape (N,) or (N, 1) with N = len(images) = "
            f"{len(images)}. Received shape {labels.shape}."
        )
    if not isinstance(n_per_class, (int, np.integer)) or n_per_class < 1:
        raise ValueError(f"`n_per_class` must be a positive int. Received {n_per_class!r}.")
    rng = np.random.default_rng(seed)
    chosen = []
    for cls in np.unique(flat):
        where = np.flatnonzero(flat == cls)
        if len(where) < n_per_class:
            raise ValueError(
                f"`n_per_class`={n_per_class} is more than the {len(where)} examples "
                f"of class {cls}."
            )
        chosen.append(rng.choice(where, size=n_per_class, replace=False))
    index = np.sort(np.concatenate(chosen))
    return images[index], labels[index]
