"""Save and load the course's Keras models safely.

`save_model` writes a ``.keras`` file atomically: a temporary file in the same
folder, renamed over the target, so an interrupted save never leaves a
half-written model behind. It keeps the target's permissions, writes through a
symbolic link, and removes the temporary files that killed saves left behind.
`check_output_path` checks, before a long training run, that the model can be
written at all. `load_model` registers every Keras class the course defines
(`cifar_helpers.optimizers`, `cifar_helpers.speedups`) before loading, so any
model a notebook or ``cifar-course train`` saved loads in a fresh Python
session; it refuses archives whose contents are implausibly large for their
size, and turns Keras' low-level errors into one clear message.

Keras is imported by `load_model` only, so the checks run before TensorFlow
loads (``cifar-course train`` refuses a bad ``--out`` in a fraction of a second).
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import tempfile
import time
import zipfile
from pathlib import Path

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_MODEL_BYTES",
    "check_folder",
    "check_output_path",
    "load_model",
    "save_model",
]

#: Largest ``config.json`` (or ``metadata.json``) `load_model` reads: the course's are ~10 kB.
MAX_CONFIG_BYTES = 64 * 1024**2
#: Largest total uncompressed size of a ``.keras`` archive `load_model` opens.
MAX_MODEL_BYTES = 2 * 1024**3
#: Largest compression ratio of a member over 1 MB: weights barely compress; a
#: "zip bomb" (1 MB that inflates to gigabytes) compresses more than 1000-fold.
MAX_COMPRESSION_RATIO = 1000

# Temporary files of `save_model`: ".cifar-save-<pid>-<random>-<name>.keras".
_TEMPORARY_PREFIX = ".cifar-save-"
_TEMPORARY_NAME = re.compile(r"^\.cifar-save-(\d+)-[0-9a-f]{8}-.*\.keras$")
# A temporary file untouched this long is stale, even if its PID was reused.
_STALE_SECONDS = 60
_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _check_suffix(path):
    if path.suffix != ".keras":
        raise ValueError(
            "`path` must end in '.keras' (Keras 3's model format). "
            f"Received a path ending in {path.suffix or 'nothing'!r}: {path.name!r}."
        )


def _target(path):
    """The file a save to `path` writes: symbolic links are followed, not replaced."""
    return Path(os.path.realpath(path))


def check_output_path(path):
    """Check now that `save_model(model, path)` will be able to write `path`.

    Call it before a long training run, so that a typo or a read-only folder
    costs a second, not the run. Missing parent folders are created (as
    `save_model` would), and a temporary file is written and removed.

    Parameters
    ----------
    path : str or path-like
        Where the model will go; must end in ``.keras``.

    Returns
    -------
    pathlib.Path
        The file that will be written (symbolic links resolved).

    Raises
    ------
    ValueError
        If `path` does not end in ``.keras``, is a folder or a special file.
    OSError
        (`PermissionError`, `NotADirectoryError`…) with a message naming the
        folder, if the folder cannot be created or written to.
    """
    path = Path(path)
    _check_suffix(path)
    target = _target(path)
    if target.is_dir():
        raise ValueError(
            f"`path` must name a file, but '{path}' is a folder. Choose a file name "
            f"inside it, e.g. '{path / 'model.keras'}'."
        )
    if target.exists() and not target.is_file():
        raise ValueError(f"`path` must name a regular file; '{path}' is a special file.")
    check_folder(target.parent, "save a model")
    return target


def check_folder(folder, purpose="write files"):
    """Create `folder` (and its parents) if needed and check that it takes new files.

    Parameters
    ----------
    folder : str or path-like
    purpose : str
        What the folder is for, for the message ("save a model").

    Raises
    ------
    OSError
        (`PermissionError`, `NotADirectoryError`, `FileExistsError`…) with a
        message naming the folder, if it cannot be created or written to.
    """
    folder = Path(folder)
    existing = next((p for p in (folder, *folder.parents) if p.exists() or p.is_symlink()),
                    None)
    if existing is not None and not existing.is_dir():
        raise NotADirectoryError(
            f"Cannot {purpose} in '{folder}': '{existing}' is a file, not a folder. "
            "Choose another path."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=_TEMPORARY_PREFIX + "probe-", dir=folder)
        os.close(handle)
        os.remove(probe)
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise type(exc)(
            f"Cannot {purpose} in '{folder}': {reason}. Choose another path, or fix the "
            "folder (is a file in the way? is it read-only?)."
        ) from None


def _remove_stale_temporaries(folder, stem):
    """Delete temporary files that saves killed before their rename left in `folder`."""
    legacy = re.compile(rf"^\.{re.escape(stem)}-[a-z0-9_]{{8}}\.keras$")  # before this version
    now = time.time()
    for entry in os.scandir(folder):
        match = _TEMPORARY_NAME.match(entry.name)
        if not (match or legacy.match(entry.name)) or not entry.is_file(follow_symlinks=False):
            continue
        try:
            stale = now - entry.stat(follow_symlinks=False).st_mtime > _STALE_SECONDS
            if match and not stale:
                owner = int(match.group(1))
                if owner == os.getpid():
                    continue
                try:
                    os.kill(owner, 0)
                except ProcessLookupError:
                    stale = True  # its process is gone
                except PermissionError:
                    pass  # alive, another user's
            if stale:
                os.remove(entry.path)
        except OSError:
            continue  # removed meanwhile, or not ours to remove: leave it


def _new_file_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def save_model(model, path):
    """Save `model` to a ``.keras`` file atomically.

    The model is written to a temporary file in the same folder, flushed to
    disk, and then renamed over `path` (``os.replace``), so an interrupted save
    never leaves a half-written model behind: `path` holds either the old model
    or the new one.

    Parameters
    ----------
    model : keras.Model
    path : str or path-like
        Destination ending in ``.keras`` (Keras 3's format; not the legacy ``.h5``).
        Missing parent folders are created. If `path` is a symbolic link, the
        file it points to is replaced (the link stays); an existing file keeps
        its permissions (a new one gets those of a plain ``model.save``).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If `path` does not end in ``.keras``, or is a folder.

    Notes
    -----
    A save killed before its rename leaves a temporary
    ``.cifar-save-<pid>-<random>-<name>.keras`` file; the next save to the same
    folder removes it (once its process has ended, or after a minute).
    """
    path = Path(path)
    _check_suffix(path)
    target = _target(path)
    if target.is_dir():
        raise ValueError(f"`path` must name a file, but '{path}' is a folder.")
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(target.parent, target.stem)
    mode = stat.S_IMODE(target.stat().st_mode) if target.is_file() else _new_file_mode()
    temporary = target.parent / (
        f"{_TEMPORARY_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{target.name}"
    )
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        # Save the optimizer's full state even before training, so loading matches it.
        optimizer.build(model.trainable_variables)
    try:
        model.save(str(temporary))
        os.chmod(temporary, mode)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def _check_archive(path):
    """Refuse a ``.keras`` archive whose members would inflate to implausible sizes."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    total = sum(member.file_size for member in members)
    if total > MAX_MODEL_BYTES:
        raise ValueError(
            f"'{path.name}' would unpack to {total / 1e9:.1f} GB, more than the "
            f"{MAX_MODEL_BYTES / 1e9:.1f} GB a course model may take (MAX_MODEL_BYTES)."
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        config = member.filename in ("config.json", "metadata.json")
        if (config and member.file_size > MAX_CONFIG_BYTES) or (
            member.file_size > 2**20 and ratio > MAX_COMPRESSION_RATIO
        ):
            raise ValueError(
                f"'{path.name}' is not a plausible Keras model: its member "
                f"'{member.filename}' inflates from {member.compress_size:,} to "
                f"{member.file_size:,} bytes (a model's config.json takes kilobytes). "
                "It may be damaged or crafted; it was not loaded."
            )


def load_model(path):
    """Load a ``.keras`` model, with a clear error for a missing or wrong file.

    The course's own Keras classes (`cifar_helpers.speedups`, and the fast
    recipes' optimizer and schedule in `cifar_helpers.optimizers`) are
    registered first, so models saved by any notebook or by
    ``cifar-course train`` load in a fresh Python session.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    keras.Model

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If `path` is a folder, is not a readable Keras 3 ``.keras`` file, or its archive
        members are implausibly large (a ``config.json`` over
        `MAX_CONFIG_BYTES`, more than `MAX_MODEL_BYTES` in all, or a member
        compressed more than `MAX_COMPRESSION_RATIO`-fold): such a file is
        refused in milliseconds instead of filling the memory.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"'{path}' is a folder, not a model file: give a '.keras' file's path.")
    if not path.is_file():
        raise FileNotFoundError(f"No model file at '{path}'. Train one first (notebook 09 or "
                                "`cifar-course train --out ...`).")
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise ValueError(
            f"'{path.name}' is not a Keras 3 model file: expected a '.keras' archive "
            "(saved with model.save('name.keras'))."
        )
    try:
        _check_archive(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"Could not read '{path.name}' as a zip archive ({exc}).") from None
    import keras

    # Importing these modules registers their classes with Keras.
    from . import optimizers, speedups  # noqa: F401

    try:
        return keras.models.load_model(path)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RuntimeError, NotImplementedError, MemoryError, zipfile.BadZipFile) as exc:
        text = _ANSI_CODE.sub("", str(exc)).strip()
        first_line = text.splitlines()[0] if text else ""
        raise ValueError(
            f"Could not load '{path.name}' as a Keras model ({type(exc).__name__}: {first_line})."
        ) from None
