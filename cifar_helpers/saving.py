"""Save and load the course's Keras models safely.

`save_model` writes a ``.keras`` file atomically: a temporary file in the same
folder, renamed over the target, so an interrupted save never leaves a
half-written model behind. `load_model` registers every Keras class the course
defines (`cifar_helpers.optimizers`, `cifar_helpers.speedups`) before loading,
so any model a notebook or ``cifar-course train`` saved loads in a fresh
Python session, and it turns Keras' low-level errors into one clear message.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import keras

__all__ = ["load_model", "save_model"]


def save_model(model, path):
    """Save `model` to a ``.keras`` file atomically.

    The model is written to a temporary file in the same folder and then
    renamed over `path` (``os.replace``), so an interrupted save never leaves a
    half-written model behind: `path` holds either the old model or the new one.

    Parameters
    ----------
    model : keras.Model
    path : str or path-like
        Destination ending in ``.keras`` (Keras 3's format; not the legacy ``.h5``).
        Missing parent folders are created.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If `path` does not end in ``.keras``.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(
            "`path` must end in '.keras' (Keras 3's model format). "
            f"Received a path ending in {path.suffix or 'nothing'!r}: {path.name!r}."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".keras", dir=path.parent)
    os.close(handle)
    # mkstemp makes the file private (0o600); give it the permissions a plain save would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        # Save the optimizer's full state even before training, so loading matches it.
        optimizer.build(model.trainable_variables)
    try:
        model.save(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


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
        If `path` is not a readable Keras 3 ``.keras`` file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at '{path}'. Train one first (notebook 09 or "
                                "`cifar-course train --out ...`).")
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise ValueError(
            f"'{path.name}' is not a Keras 3 model file: expected a '.keras' archive "
            "(saved with model.save('name.keras'))."
        )
    # Importing these modules registers their classes with Keras.
    from . import optimizers, speedups  # noqa: F401

    try:
        return keras.models.load_model(path)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ValueError(
            f"Could not load '{path.name}' as a Keras model ({type(exc).__name__}: {first_line})."
        ) from None
