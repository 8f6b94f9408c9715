"""Course-wide settings: the quick-run switch and where the course keeps its files.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "IMAGES_DIR",
    "MODELS_DIR",
    "QUICK_ENV",
    "ROOT_DIR",
    "model_path",
    "quick_mode",
]

#: Environment variable that turns on quick runs (CI sets it; students don't).
QUICK_ENV = "CIFAR_COURSE_QUICK"

#: The course folder (the one holding ``notebooks/`` and ``images/``).
ROOT_DIR = Path(__file__).resolve().parent.parent
#: Photos and figures shown by the notebooks.
IMAGES_DIR = ROOT_DIR / "images"
#: Trained models written by the notebooks and the command line (not committed).
MODELS_DIR = ROOT_DIR / "models"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def quick_mode(environ=None):
    """Return True when ``CIFAR_COURSE_QUICK`` asks for quick runs.

    Quick runs train on a small subset for one epoch, so that CI can execute
    every notebook in minutes. Students leave the variable unset.

    Parameters
    ----------
    environ : mapping, optional
        Where to read the variable; defaults to ``os.environ``.

    Examples
    --------
    >>> quick_mode({"CIFAR_COURSE_QUICK": "1"})
    True
    >>> quick_mode({"CIFAR_COURSE_QUICK": "0"}), quick_mode({})
    (False, False)
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(QUICK_ENV, "")
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{QUICK_ENV} must be one of {sorted(_TRUE | _FALSE - {''})} (or unset). "
        f"Received {QUICK_ENV}={raw!r}."
    )


def model_path(name="seed_cnn", quick=None):
    """Where the course saves the trained model called `name`.

    Quick runs save to a separate file (``<name>_quick.keras``), so running the
    tests never overwrites a model a student trained for real.

    Examples
    --------
    >>> model_path("seed_cnn", quick=False).name
    'seed_cnn.keras'
    >>> model_path("seed_cnn", quick=True).name
    'seed_cnn_quick.keras'
    """
    if quick is None:
        quick = quick_mode()
    return MODELS_DIR / f"{name}{'_quick' if quick else ''}.keras"
