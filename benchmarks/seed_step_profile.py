"""Where does one training step of the seed model spend its time on this machine?

Usage (from the course folder; no data needed, the batch is random)::

    python benchmarks/seed_step_profile.py              # 40 calls x 5 repeats per line
    python benchmarks/seed_step_profile.py --calls 10 --repeats 3

Each line times one piece of a batch-32 training step of ``build_seed_model()``
on its own, as a compiled ``tf.function`` (median of the repeats, in ms per call):
the whole step, the optimizer update, and every convolution and matrix product of
the forward and backward passes with the model's own shapes and weights, with
its rate in GFLOP/s. The last lines scale to a 50,000-image epoch (1,563 steps):
the whole step; the convolutions and products timed one at a time and added up
(a step can overlap some of them); and the arithmetic floor, the step's 2.73
GFLOP at the best rate this machine reaches on a large matrix product (a
2048 x 2048 one), which no training code on this machine can beat. These are
figures, not assertions; the machine is shared, so repeat the run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from cifar_helpers.environment import enable_onednn, onednn_enabled
from cifar_helpers.notebook import quiet_tensorflow

STEPS_PER_EPOCH = 1563  # ceil(50,000 / 32)
BATCH = 32


def time_ms(fn, calls, repeats):
    """Median over `repeats` of the mean time of `calls` calls of `fn`, in ms."""
    fn()
    fn()  # trace, compile and warm up
    means = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            result = fn()
        if hasattr(result, "numpy"):
            result.numpy()
        means.append((time.perf_counter() - start) / calls * 1000)
    return statistics.median(means)


def kernels(model, x):
    """The step's convolutions and products: ``{name: (zero-argument function, FLOP)}``."""
    import tensorflow as tf

    conv1, conv2, dense = (model.get_layer(name) for name in ("conv1", "conv2", "dense"))
    w1, w2, wd = (tf.convert_to_tensor(layer.kernel) for layer in (conv1, conv2, dense))
    a1 = tf.nn.relu(tf.nn.conv2d(x, w1, 1, "SAME"))
    a2 = tf.nn.relu(tf.nn.conv2d(a1, w2, 1, "SAME"))
    flat = tf.reshape(tf.nn.max_pool2d(a2, 2, 2, "VALID"), (BATCH, -1))
    d_a2 = tf.random.normal(a2.shape, seed=1)  # stand-ins for the backward signals
    d_h = tf.random.normal((BATCH, wd.shape[1]), seed=2)
    ones = [1, 1, 1, 1]

    def backprop_filter(inputs, kernel):
        return tf.raw_ops.Conv2DBackpropFilter(
            input=inputs, filter_sizes=tf.shape(kernel), out_backprop=d_a2, strides=ones,
            padding="SAME")

    # multiply-adds: output positions x kernel taps (3 x 3 x channels in) x channels out
    conv1_flops = 2 * BATCH * 32 * 32 * (3 * 3 * w1.shape[2]) * w1.shape[3]
    conv2_flops = 2 * BATCH * 32 * 32 * (3 * 3 * w2.shape[2]) * w2.shape[3]
    dense_flops = 2 * BATCH * wd.shape[0] * wd.shape[1]
    return {
        "conv1 forward": (lambda: tf.nn.conv2d(x, w1, 1, "SAME"), conv1_flops),
        "conv1 kernel gradient": (lambda: backprop_filter(x, w1), conv1_flops),
        "conv2 forward": (lambda: tf.nn.conv2d(a1, w2, 1, "SAME"), conv2_flops),
        "conv2 kernel gradient": (lambda: backprop_filter(a1, w2), conv2_flops),
        "conv2 input gradient": (lambda: tf.raw_ops.Conv2DBackpropInput(
            input_sizes=tf.shape(a1), filter=w2, out_backprop=d_a2, strides=ones,
            padding="SAME"), conv2_flops),
        "dense forward": (lambda: tf.matmul(flat, wd), dense_flops),
        "dense kernel gradient": (lambda: tf.matmul(flat, d_h, transpose_a=True), dense_flops),
        "dense input gradient": (lambda: tf.matmul(d_h, wd, transpose_b=True), dense_flops),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40, help="calls per timing")
    parser.add_argument("--repeats", type=int, default=5, help="timings per line (median)")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.repeats < 1:
        parser.error(f"--calls and --repeats should be >= 1; received {args.calls}, "
                     f"{args.repeats}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    enable_onednn()  # before TensorFlow is imported; TF_ENABLE_ONEDNN_OPTS=0 still wins
    keras = quiet_tensorflow()
    import numpy as np
    import tensorflow as tf

    from cifar_helpers.models import build_seed_model

    keras.utils.set_random_seed(0)
    model = build_seed_model()
    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((BATCH, 32, 32, 3), dtype=np.float32))
    y = tf.constant(np.eye(10, dtype=np.float32)[rng.integers(0, 10, BATCH)])
    grads = [tf.random.normal(v.shape, stddev=1e-3, seed=3) for v in model.trainable_variables]

    print(f"{os.cpu_count()} CPU cores, TensorFlow {tf.__version__}, oneDNN "
          f"{'on' if onednn_enabled() else 'off'}; seed model, batch {BATCH}; ms per call",
          flush=True)
    rows = {
        "whole training step (train_on_batch)":
            lambda: model.train_on_batch(x, y, return_dict=False),
        "optimizer update with MaxNorm (apply)": tf.function(
            lambda: model.optimizer.apply(grads, model.trainable_variables) or tf.constant(0.0)),
    }
    measured = {name: time_ms(fn, args.calls, args.repeats) for name, fn in rows.items()}
    for name, ms in measured.items():
        print(f"{name:40s} {ms:7.2f}", flush=True)
    step = measured["whole training step (train_on_batch)"]
    total_ms, total_flops = 0.0, 0
    for name, (fn, flops) in kernels(model, x).items():
        ms = time_ms(tf.function(fn), args.calls, args.repeats)
        total_ms, total_flops = total_ms + ms, total_flops + flops
        print(f"{name:40s} {ms:7.2f}  ({flops / ms / 1e6:5.1f} GFLOP/s)", flush=True)
    print(f"{'sum of convolutions and products':40s} {total_ms:7.2f}  "
          f"({total_flops / total_ms / 1e6:5.1f} GFLOP/s, {total_flops / 1e9:.2f} GFLOP)")
    big = tf.random.normal((2048, 2048), seed=4)
    big_ms = time_ms(tf.function(lambda: tf.matmul(big, big)), 5, args.repeats)
    best_rate = 2 * 2048**3 / big_ms / 1e6
    floor_ms = total_flops / best_rate / 1e6
    print(f"{'2048 x 2048 matrix product (best rate)':40s}          ({best_rate:5.1f} GFLOP/s)")
    print(f"=> per 50,000-image epoch ({STEPS_PER_EPOCH:,} steps of {BATCH}): whole steps "
          f"{step * STEPS_PER_EPOCH / 1000:.1f} s; convolutions and products one at a time "
          f"{total_ms * STEPS_PER_EPOCH / 1000:.1f} s; arithmetic floor at the best rate "
          f"{floor_ms * STEPS_PER_EPOCH / 1000:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
