"""Learning-rate schedules and the recipes' optimizer, each with a NumPy reference.

- `keras2_learning_rate` / `keras2_decay_schedule`: the source tutorial's
  Keras 2 ``SGD(lr=0.01, decay=0.01 / 25)``, which shrank the learning rate
  after every batch as ``lr / (1 + decay * step)``. Keras 3 dropped ``decay``;
  the same rule is Keras' ``InverseTimeDecay`` with ``decay_steps=1``.
- `triangular_learning_rate` / `TriangularSchedule`: the fast recipes' linear
  warm-up then linear decay to zero.
- `BiasScaledSGD`: SGD with PyTorch-style weight decay and faster-learning
  BatchNorm biases (airbench's optimizer).

The classes are registered with Keras under ``cifar_helpers>``, so a saved
model that uses them loads once this module is imported
(`cifar_helpers.saving.load_model` does that). This module imports Keras.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

__all__ = [
    "BiasScaledSGD",
    "SEED_DECAY",
    "SEED_LEARNING_RATE",
    "SEED_MOMENTUM",
    "TriangularSchedule",
    "keras2_decay_schedule",
    "keras2_learning_rate",
    "triangular_learning_rate",
]

#: The tutorial's optimizer settings: ``SGD(lr=0.01, momentum=0.9, decay=0.01/25)``.
SEED_LEARNING_RATE = 0.01
SEED_MOMENTUM = 0.9
SEED_DECAY = 0.01 / 25


def keras2_learning_rate(step, learning_rate=SEED_LEARNING_RATE, decay=SEED_DECAY):
    """The learning rate Keras 2's ``SGD(lr=..., decay=...)`` used at batch `step`.

    Parameters
    ----------
    step : int or ndarray of int
        How many batches (optimizer updates) have been applied so far, from 0.
    learning_rate, decay : float
        Keras 2's ``lr`` and ``decay`` arguments.

    Returns
    -------
    float or ndarray
        ``learning_rate / (1 + decay * step)``.

    Examples
    --------
    >>> keras2_learning_rate(0)
    0.01
    >>> round(keras2_learning_rate(2500), 6)  # after 2,500 batches the rate has halved
    0.005
    """
    return learning_rate / (1.0 + decay * step)


def keras2_decay_schedule(learning_rate=SEED_LEARNING_RATE, decay=SEED_DECAY):
    """Keras 2's per-batch ``decay`` as a Keras 3 learning-rate schedule.

    Parameters
    ----------
    learning_rate : float
        The initial learning rate (Keras 2's ``lr``), > 0.
    decay : float
        Keras 2's ``decay``, >= 0.

    Returns
    -------
    keras.optimizers.schedules.InverseTimeDecay
        Called with the optimizer's step count it returns
        ``learning_rate / (1 + decay * step)``, exactly `keras2_learning_rate`.

    Raises
    ------
    ValueError
        If `learning_rate` <= 0 or `decay` < 0.

    Examples
    --------
    >>> schedule = keras2_decay_schedule(0.01, decay=0.01 / 25)
    >>> round(float(schedule(2500)), 6)
    0.005
    """
    if not learning_rate > 0:
        raise ValueError(f"`learning_rate` must be > 0. Received learning_rate={learning_rate}.")
    if not decay >= 0:
        raise ValueError(f"`decay` must be >= 0. Received decay={decay}.")
    # decay_steps=1 makes InverseTimeDecay's lr / (1 + rate * step / steps) Keras 2's rule.
    return keras.optimizers.schedules.InverseTimeDecay(
        initial_learning_rate=learning_rate, decay_steps=1, decay_rate=decay
    )


def triangular_learning_rate(step, peak, total_steps, warmup_fraction=0.2, start_factor=0.2):
    """The triangle schedule's learning rate at `step` (NumPy; the reference values).

    It rises linearly from ``start_factor * peak`` at step 0 to `peak` at
    ``int(warmup_fraction * total_steps)``, then falls linearly to 0 at
    `total_steps` (and stays 0 after).

    Examples
    --------
    >>> [float(triangular_learning_rate(s, 1.0, 10)) for s in (0, 1, 2, 6, 10)]
    [0.2, 0.6, 1.0, 0.5, 0.0]
    """
    if not isinstance(total_steps, (int, np.integer)) or total_steps < 1:
        raise ValueError(f"`total_steps` must be a positive int. Received {total_steps!r}.")
    if not 0 <= warmup_fraction < 1:
        raise ValueError(f"`warmup_fraction` must be in [0, 1). Received {warmup_fraction!r}.")
    peak_step = int(warmup_fraction * total_steps)
    factor = np.interp(step, [0, peak_step, total_steps], [start_factor, 1.0, 0.0])
    return peak * factor


@keras.saving.register_keras_serializable(package="cifar_helpers")
class TriangularSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to `peak`, then linear decay to 0 (see `triangular_learning_rate`)."""

    def __init__(self, peak, total_steps, warmup_fraction=0.2, start_factor=0.2):
        # The checks live in triangular_learning_rate; run them once here.
        triangular_learning_rate(0, peak, total_steps, warmup_fraction, start_factor)
        self.peak = float(peak)
        self.total_steps = int(total_steps)
        self.warmup_fraction = float(warmup_fraction)
        self.start_factor = float(start_factor)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        peak_step = float(max(int(self.warmup_fraction * self.total_steps), 0))
        total = float(self.total_steps)
        if peak_step > 0:
            rising = self.start_factor + (1.0 - self.start_factor) * step / peak_step
        else:
            rising = ops.ones_like(step)
        falling = (total - step) / max(total - peak_step, 1.0)
        factor = ops.where(step < peak_step, rising, ops.maximum(falling, 0.0))
        return self.peak * factor

    def get_config(self):
        return {
            "peak": self.peak,
            "total_steps": self.total_steps,
            "warmup_fraction": self.warmup_fraction,
            "start_factor": self.start_factor,
        }


@keras.saving.register_keras_serializable(package="cifar_helpers")
class BiasScaledSGD(keras.optimizers.SGD):
    """SGD with PyTorch-style weight decay and faster-learning BatchNorm biases.

    ``gradient + weight_decay * w`` replaces each gradient before momentum (as
    ``torch.optim.SGD(weight_decay=...)`` does; Keras' own ``weight_decay`` is
    decoupled), and BatchNorm biases (``beta``) use ``bias_lr_scale`` times the
    learning rate with ``weight_decay / bias_lr_scale``, so they decay at the
    same rate as the other weights (airbench's bias scaler).
    """

    def __init__(self, *args, l2=0.0, bias_lr_scale=1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.l2 = float(l2)
        self.bias_lr_scale = float(bias_lr_scale)

    def update_step(self, gradient, variable, learning_rate):
        l2 = self.l2
        # On TensorFlow the variable here can be the backend's (named "beta:0").
        name = str(getattr(variable, "name", "")).split(":")[0].split("/")[-1]
        if self.bias_lr_scale != 1.0 and name == "beta":
            learning_rate = ops.multiply(learning_rate, self.bias_lr_scale)
            l2 = l2 / self.bias_lr_scale
        if l2:
            gradient = ops.add(gradient, ops.multiply(ops.cast(variable, gradient.dtype), l2))
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        config = super().get_config()
        config.update({"l2": self.l2, "bias_lr_scale": self.bias_lr_scale})
        return config
