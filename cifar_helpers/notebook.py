"""The one set-up call at the top of every notebook.

``setup_notebook()`` asks TensorFlow for its fast oneDNN CPU kernels
(`cifar_helpers.environment.enable_onednn`), silences TensorFlow's C++ start-up
log lines (the same way in every notebook, so stored outputs stay clean),
imports TensorFlow/Keras once, and seeds NumPy, Python and Keras.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random

import numpy as np

from .environment import enable_onednn

__all__ = ["no_retracing_warnings", "quiet_tensorflow", "setup_notebook"]


@contextlib.contextmanager
def _stderr_fd_silenced():
    """Send the process' file descriptor 2 to /dev/null for the duration."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_tensorflow():
    """Import TensorFlow and Keras without their C++ log noise; return ``keras``.

    TensorFlow writes a few ``I0000 …`` lines to the process' stderr while it
    loads (before its logging is configured), which ``TF_CPP_MIN_LOG_LEVEL``
    cannot stop. We set ``TF_CPP_MIN_LOG_LEVEL=3`` for later messages and hide
    the start-up lines by importing TensorFlow with stderr sent to /dev/null.
    Under another Keras backend (``KERAS_BACKEND=jax`` or ``torch``) TensorFlow
    is not imported at all.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _stderr_fd_silenced():
        import keras  # (imports TensorFlow when it is the backend, the default)

        if keras.backend.backend() == "tensorflow":
            import tensorflow  # noqa: F401

    return keras


def setup_notebook(seed=0, tensorflow=True):
    """Prepare a notebook: quiet TensorFlow (optional) and seed every generator.

    Parameters
    ----------
    seed : int
        Seed for Python's ``random``, NumPy's global generator and Keras.
    tensorflow : bool
        Import TensorFlow/Keras now, silently. Notebooks that only use NumPy
        pass ``False`` and start faster.

    Notes
    -----
    Sets ``TF_ENABLE_ONEDNN_OPTS=1`` on x86-64 unless it is set already
    (`cifar_helpers.environment.enable_onednn`), before TensorFlow is imported.
    """
    enable_onednn()
    random.seed(seed)
    np.random.seed(seed)
    if tensorflow:
        keras = quiet_tensorflow()
        keras.utils.set_random_seed(seed)


@contextlib.contextmanager
def no_retracing_warnings():
    """Hide TensorFlow's "triggered tf.function retracing" warnings for the duration.

    Training several fresh models in a row (the ablation, the tests) makes
    TensorFlow warn that its functions are retraced, with memory addresses in
    the message. Every new model needs its own trace, so the warning says
    nothing useful here, and it would clutter stored notebook outputs.
    """
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
