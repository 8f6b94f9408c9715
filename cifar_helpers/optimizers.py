"""Learning-rate schedules and the recipes' optimizer, each with a NumPy reference.

- `keras2_learning_rate` / `keras2_decay_schedule`: the source tutorial's
  Keras 2 ``SGD(lr=0.01, decay=0.01 / 25)``, which shrank the learning rate
  after every batch as ``lr / (1 + decay * step)``. Keras 3 dropped ``decay``;
  the same rule is Keras' ``InverseTimeDecay`` with ``decay_steps=1``.
- `triangular_learning_rate` / `TriangularSchedule`: the fast recipes' linear
  warm-up then linear decay to zero.
- `BiasScaledSGD`: SGD with PyTorch-style weight decay and faster-learning
  BatchNorm biases (airbench's optimizer).
- `MuonSGD`: the same, with convolution kernels updated by Muon (momentum,
  then `orthogonalize`; airbench94_muon's optimizer), reference
  `muon_step_numpy`.

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
    "MuonSGD",
    "SEED_DECAY",
    "SEED_LEARNING_RATE",
    "SEED_MOMENTUM",
    "TriangularSchedule",
    "keras2_decay_schedule",
    "keras2_learning_rate",
    "muon_step_numpy",
    "orthogonalize",
    "orthogonalize_numpy",
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
    `total_steps` (and stays 0 after). When that peak step is 0 (no warm-up,
    as in `fast-90`) it starts at `peak`.

    Examples
    --------
    >>> [float(triangular_learning_rate(s, 1.0, 10)) for s in (0, 1, 2, 6, 10)]
    [0.2, 0.6, 1.0, 0.5, 0.0]
    >>> [float(triangular_learning_rate(s, 1.0, 10, warmup_fraction=0.0)) for s in (0, 5, 10)]
    [1.0, 0.5, 0.0]
    """
    if not isinstance(total_steps, (int, np.integer)) or total_steps < 1:
        raise ValueError(f"`total_steps` must be a positive int. Received {total_steps!r}.")
    if not 0 <= warmup_fraction < 1:
        raise ValueError(f"`warmup_fraction` must be in [0, 1). Received {warmup_fraction!r}.")
    peak_step = int(warmup_fraction * total_steps)
    if peak_step == 0:  # no warm-up: np.interp needs increasing points
        return peak * np.interp(step, [0, total_steps], [1.0, 0.0])
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


#: The quintic Newton-Schulz coefficients of Keller Jordan's Muon (airbench94_muon).
NEWTON_SCHULZ_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def orthogonalize_numpy(matrix, steps=3, eps=1e-7):
    """Muon's approximate orthogonalization of a 2-D matrix (NumPy; the reference).

    Scales `matrix` to Frobenius norm 1, then applies `steps` quintic
    Newton-Schulz iterations ``X <- a X + (b A + c A A) X`` with ``A = X X^T``
    (on the wide orientation). Each one pushes every singular value of ``X``
    towards 1 while keeping its singular vectors, so the result approaches
    ``U V^T`` of the SVD ``U S V^T`` without reaching it: after 3 steps the
    singular values are all below about 1.2 and far less spread than before
    (the smallest of a wide spread lag, e.g. at 0.25), which is all Muon's
    update needs.

    Examples
    --------
    >>> out = orthogonalize_numpy(np.diag([4.0, 1.0]), steps=5)
    >>> bool(np.all(np.abs(np.diag(out) - 1) < 0.3)), float(abs(out[0, 1]))
    (True, 0.0)
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"`matrix` must be 2-D. Received shape {matrix.shape}.")
    a, b, c = NEWTON_SCHULZ_COEFFICIENTS
    x = matrix / (np.linalg.norm(matrix) + eps)
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


def orthogonalize(matrix, steps=3, eps=1e-7):
    """`orthogonalize_numpy` in Keras ops (float32), for use inside a training step."""
    a, b, c = NEWTON_SCHULZ_COEFFICIENTS
    x = ops.cast(matrix, "float32")
    x = x / (ops.sqrt(ops.sum(ops.square(x))) + eps)
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = ops.transpose(x)
    for _ in range(steps):
        gram = ops.matmul(x, ops.transpose(x))
        x = a * x + ops.matmul(b * gram + c * ops.matmul(gram, gram), x)
    return ops.transpose(x) if tall else x


def muon_step_numpy(kernel, gradient, buffer, learning_rate, momentum=0.6, steps=3):
    """One Muon update of a channels-last convolution kernel (NumPy; the reference).

    As airbench94_muon does it: ``buffer = momentum * buffer + gradient``; the
    Nesterov direction ``gradient + momentum * buffer`` is flattened to a
    ``(kh * kw * in, out)`` matrix and orthogonalized; the kernel is rescaled
    to Frobenius norm ``sqrt(out)`` (BatchNorm follows every convolution, so
    only its direction matters) and takes a step of `learning_rate` along the
    orthogonalized direction.

    Returns
    -------
    (kernel, buffer) : ndarrays
        The updated kernel and momentum buffer.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    buffer = momentum * np.asarray(buffer, dtype=np.float64) + gradient
    direction = gradient + momentum * buffer
    update = orthogonalize_numpy(direction.reshape(-1, kernel.shape[-1]), steps)
    # An all-zero kernel stays zero here (the norm is floored) and moves by the update.
    kernel = kernel * np.sqrt(kernel.shape[-1]) / max(np.linalg.norm(kernel), 1e-12)
    return kernel - learning_rate * update.reshape(kernel.shape), buffer


@keras.saving.register_keras_serializable(package="cifar_helpers")
class MuonSGD(BiasScaledSGD):
    """`BiasScaledSGD` for most weights, Muon for the 4-D convolution kernels.

    The kernels' learning rate is ``muon_scale`` times the scheduled one, so
    both follow the same schedule; their momentum is ``muon_momentum``
    (Nesterov), they get no weight decay (their norm is reset every step) and
    each update is `muon_step_numpy`'s. Everything else (BatchNorm biases, the
    classifier) is updated as `BiasScaledSGD` does.
    """

    def __init__(self, *args, muon_scale=1.0, muon_momentum=0.6, newton_schulz_steps=3,
                 **kwargs):
        super().__init__(*args, **kwargs)
        if not muon_scale > 0 or not 0 <= muon_momentum < 1:
            raise ValueError(
                "`muon_scale` must be > 0 and `muon_momentum` in [0, 1). Received "
                f"muon_scale={muon_scale!r}, muon_momentum={muon_momentum!r}."
            )
        if not isinstance(newton_schulz_steps, int) or newton_schulz_steps < 1:
            raise ValueError(
                "`newton_schulz_steps` must be a positive int. "
                f"Received {newton_schulz_steps!r}."
            )
        self.muon_scale = float(muon_scale)
        self.muon_momentum = float(muon_momentum)
        self.newton_schulz_steps = newton_schulz_steps

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        if not self.momentums:  # SGD keeps none without momentum; Muon needs its buffers
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        if len(variable.shape) != 4:
            return super().update_step(gradient, variable, learning_rate)
        buffer = self.momentums[self._get_variable_index(variable)]
        gradient = ops.cast(gradient, variable.dtype)
        self.assign(buffer, ops.add(ops.multiply(buffer, self.muon_momentum), gradient))
        direction = ops.add(gradient, ops.multiply(buffer, self.muon_momentum))
        shape = tuple(variable.shape)
        update = orthogonalize(ops.reshape(direction, (-1, shape[-1])), self.newton_schulz_steps)
        norm = ops.maximum(ops.sqrt(ops.sum(ops.square(variable))), 1e-12)
        rescaled = ops.multiply(variable, ops.divide(float(np.sqrt(shape[-1])), norm))
        rate = ops.multiply(ops.cast(learning_rate, variable.dtype), self.muon_scale)
        self.assign(variable, ops.subtract(rescaled,
                                           ops.multiply(rate, ops.reshape(update, shape))))

    def get_config(self):
        config = super().get_config()
        config.update({"muon_scale": self.muon_scale, "muon_momentum": self.muon_momentum,
                       "newton_schulz_steps": self.newton_schulz_steps})
        return config
