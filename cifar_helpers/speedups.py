"""Keras classes that compute the tutorial's numbers faster on a CPU.

The seed model (`cifar_helpers.models.build_seed_model`) spends a third of each
training step outside its convolutions and matrix products. Measured with
TensorFlow 2.21 on 2 CPU cores, per batch of 32 images:

- ``Dense``'s backward pass computes ``dy @ kernel.T`` with a transposed
  operand, which oneDNN runs 2.5 times slower than the same product written as
  ``(kernel @ dy.T).T`` (5.5 ms against 2.2 ms for the 8192 x 512 kernel);
  `FastDense` uses the second form;
- Keras 3's ``SGD`` updates each weight with four separate array operations;
  TensorFlow has the fused kernel Keras 2 used (``ResourceApplyKerasMomentum``),
  2.5 times faster on the 4.2 M weights (`FusedSGD`);
- ``MaxNorm(3)`` rescales every weight after every step even when no column is
  longer than 3, which is almost always the case; `FastMaxNorm` skips the
  rescaling then.

In the fast recipes' network (`cifar_helpers.models.build_fast_model`), Keras
3's ``BatchNormalization`` normalises a training batch with about ten separate
operations, in float32 even under a bfloat16 policy; `FusedBatchNormalization`
uses TensorFlow's fused kernel, 10-12% off each training step of the race
recipe's network (batches of 512, bfloat16; ``benchmarks/step_levers.py``).

Each class gives the same results as the Keras class it replaces (the tests
compare them step by step), saves and loads like it, and falls back to the
Keras implementation on other backends. Together the first three take the seed
model's epoch from about 51 s to about 42 s on this course's 2-core machine
(see ``benchmarks/seed_training.py``).

The largest speed-up on many CPUs is not a class but TensorFlow's oneDNN
kernels; see `cifar_helpers.environment.enable_onednn`.

This module imports Keras; `cifar_helpers.models` imports it only when a model
is built with ``speedups=True``.
"""

from __future__ import annotations

import functools

import keras
from keras import ops

__all__ = ["FastDense", "FastMaxNorm", "FusedBatchNormalization", "FusedSGD"]


def _tensorflow_backend():
    return keras.backend.backend() == "tensorflow"


@functools.cache
def _fast_grad_matmul():
    import tensorflow as tf

    @tf.custom_gradient
    def matmul(x, kernel):
        def grad(dy):
            # dy @ kernel.T, computed as (kernel @ dy.T).T: the same sums, in an
            # operand order oneDNN runs much faster for a tall kernel.
            dx = tf.transpose(tf.matmul(kernel, dy, transpose_b=True))
            return dx, tf.matmul(x, dy, transpose_a=True)

        return tf.matmul(x, kernel), grad

    return matmul

@keras.saving.register_keras_serializable(package="cifar_helpers")
class FastDense(keras.layers.Dense):
    """``keras.layers.Dense`` with a faster backward pass on TensorFlow.

    Same weights, same outputs, same gradients (up to float rounding) as
    ``Dense``; only the order of one product in the backward pass changes.
    Inputs of rank other than 2, LoRA, quantized layers and other backends
    use ``Dense``'s own code.
    """

    def call(self, inputs, training=None):
        plain = (
            _tensorflow_backend()
            and len(inputs.shape) == 2
            and not getattr(self, "lora_enabled", False)
            and getattr(self, "quantization_mode", None) is None
        )
        if not plain:
            return super().call(inputs, training=training)
        import tensorflow as tf

        kernel = tf.convert_to_tensor(self.kernel)
        x = _fast_grad_matmul()(inputs, tf.cast(kernel, inputs.dtype))
        if self.bias is not None:
            x = x + tf.cast(tf.convert_to_tensor(self.bias), x.dtype)
        return self.activation(x) if self.activation is not None else x


@keras.saving.register_keras_serializable(package="cifar_helpers")
class FastMaxNorm(keras.constraints.MaxNorm):
    """``keras.constraints.MaxNorm`` that leaves weights alone when none is too long.

    Columns (along `axis`) whose norm exceeds `max_value` are scaled back
    to `max_value`, exactly as ``MaxNorm`` does. The other columns are left
    unchanged (``MaxNorm`` multiplies them by ``norm / (norm + 1e-7)``, a
    change below float32's resolution for the seed model's dense kernel),
    and when no column exceeds the limit the weights are not rewritten at all.
    """

    def __call__(self, w):
        w = ops.convert_to_tensor(w)
        norms = ops.sqrt(ops.sum(ops.square(w), axis=self.axis, keepdims=True))
        too_long = norms > self.max_value

        def rescale():
            scale = self.max_value / (keras.backend.epsilon() + norms)
            return w * ops.where(too_long, scale, ops.ones_like(norms))

        return ops.cond(ops.any(too_long), rescale, lambda: w)


@keras.saving.register_keras_serializable(package="cifar_helpers")
class FusedSGD(keras.optimizers.SGD):
    """``keras.optimizers.SGD`` whose momentum update is one fused TensorFlow kernel.

    The update is Keras' (``m = momentum * m - lr * g``, then ``w += m``, or
    ``w += momentum * m - lr * g`` with Nesterov), computed by TensorFlow's
    ``ResourceApplyKerasMomentum``, the kernel Keras 2's SGD used. Without
    momentum, with sparse gradients or on another backend it is plain ``SGD``.
    """

    def update_step(self, gradient, variable, learning_rate):
        if not (self.momentum and _tensorflow_backend()):
            return super().update_step(gradient, variable, learning_rate)
        import tensorflow as tf

        if isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        momentum = self.momentums[self._get_variable_index(variable)]
        tf.raw_ops.ResourceApplyKerasMomentum(
            var=variable.handle,
            accum=momentum.handle,
            lr=tf.cast(learning_rate, variable.dtype),
            grad=tf.cast(gradient, variable.dtype),
            momentum=tf.cast(self.momentum, variable.dtype),
            use_nesterov=bool(self.nesterov),
        )
        return None


@keras.saving.register_keras_serializable(package="cifar_helpers")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` computed by one fused kernel while training.

    Keras 3 normalises a training batch with about ten separate array
    operations (mean, squared differences, their mean, subtract, divide…),
    in float32 even under a bfloat16 policy. TensorFlow's
    ``FusedBatchNormV3`` (the kernel Keras 2 used) does the same in one
    kernel, reading bfloat16 directly. Same formula, same running averages
    (``moving = momentum * moving + (1 - momentum) * batch``, with the batch's
    variance over ``n``, not ``n - 1``, as Keras computes it) and the same
    gradients, up to float rounding: the tests compare them with Keras'
    layer.

    Inference, masks, renormalisation, synchronised statistics, inputs that
    are not 4-D with the channels last, and other backends use Keras' code.
    """

    def call(self, inputs, training=None, mask=None):
        fused = (
            training and self.trainable and mask is None and _tensorflow_backend()
            and not self.renorm and not self.synchronized and len(inputs.shape) == 4
            and list(self._reduction_axes) == [0, 1, 2]
        )
        if not fused:
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        x = tf.convert_to_tensor(inputs)
        if x.dtype not in (tf.float32, tf.bfloat16, tf.float16):
            x = tf.cast(x, tf.float32)
        channels = x.shape[-1]
        scale = tf.cast(self.gamma, tf.float32) if self.scale else tf.ones([channels])
        offset = tf.cast(self.beta, tf.float32) if self.center else tf.zeros([channels])
        empty = tf.constant([], tf.float32)
        y, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=x, scale=scale, offset=offset, mean=empty, variance=empty,
            epsilon=self.epsilon, exponential_avg_factor=1.0, data_format="NHWC",
            is_training=True,
        )
        # The kernel returns the variance over n - 1 for the running average;
        # Keras averages the variance over n.
        n = tf.cast(tf.size(x, out_type=tf.int64) // channels, tf.float32)
        variance = variance * tf.maximum(n - 1.0, 0.0) / tf.maximum(n, 1.0)
        momentum = self.momentum
        self.moving_mean.assign(
            tf.cast(self.moving_mean, tf.float32) * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(
            tf.cast(self.moving_variance, tf.float32) * momentum + variance * (1.0 - momentum))
        return tf.cast(y, self.compute_dtype)
