"""How fast is our NumPy convolution backward pass? Prints timings on this machine.

Run from the course folder::

    python benchmarks/backprop_speed.py [--size 32] [--repeats 5]

Times the gradients of one convolution (input and kernel) on the seed model's
second convolution: a 32x32x32 input, 32 filters of 3x3x32, ``padding="same"``,
one image, computed three ways:

- `conv2d_backward` (vectorised: one pass per kernel tap), float64;
- `conv2d_backward_loops` (the teaching version: one window, one filter at a time);
- TensorFlow: ``tf.GradientTape`` over ``tf.nn.conv2d``, float32 (as in training).

All three are first checked to agree. Each figure is the best of several runs
(the one least disturbed by other programs), in milliseconds per call.
Target: `conv2d_backward` at least 100x faster than `conv2d_backward_loops`.
"""

from __future__ import annotations

import argparse
import os
import platform
import timeit
from pathlib import Path

import numpy as np

from cifar_helpers.backprop import conv2d_backward, conv2d_backward_loops
from cifar_helpers.notebook import quiet_tensorflow

CHANNELS = FILTERS = 32
KERNEL_SIZE = 3
TARGET_SPEEDUP = 100


def cpu_line(cpuinfo=None):
    """``cpu: <model name> (avx512f: yes|no, avx2: yes|no), N core(s)``, from /proc/cpuinfo."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    fields = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = fields.get("flags", "").split()
    model = fields.get("model name") or platform.processor() or platform.machine()
    has = {flag: "yes" if flag in flags else "no" for flag in ("avx512f", "avx2")}
    return (
        f"cpu: {model} (avx512f: {has['avx512f']}, avx2: {has['avx2']}), "
        f"{os.cpu_count()} core(s)"
    )


def best_ms(function, repeats, number=1):
    """Best of `repeats` runs of `number` calls, in milliseconds per call (after a warm-up)."""
    function()
    return min(timeit.repeat(function, number=number, repeat=repeats)) / number * 1e3


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32, help="input rows and columns (32)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per timing, best kept (5)")
    args = parser.parse_args(argv)
    if args.size < 1 or args.repeats < 1:
        parser.error(f"--size and --repeats must be >= 1. Received {args.size}, {args.repeats}.")
    return args


def main(argv=None):
    args = parse_args(argv)
    quiet_tensorflow()
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.size, args.size, CHANNELS))
    kernel = rng.normal(size=(KERNEL_SIZE, KERNEL_SIZE, CHANNELS, FILTERS)) * 0.1
    grad = rng.normal(size=(args.size, args.size, FILTERS))
    x_tf, kernel_tf = tf.constant(x[None], tf.float32), tf.constant(kernel, tf.float32)
    grad_tf = tf.constant(grad[None], tf.float32)

    def numpy_fast():
        return conv2d_backward(x, kernel, grad, padding="same")

    def numpy_loops():
        return conv2d_backward_loops(x, kernel, grad, padding="same")

    def tensorflow():
        with tf.GradientTape() as tape:
            tape.watch([x_tf, kernel_tf])
            out = tf.nn.conv2d(x_tf, kernel_tf, 1, "SAME")
        grad_x, grad_kernel = tape.gradient(out, [x_tf, kernel_tf], output_gradients=grad_tf)
        return grad_x.numpy()[0], grad_kernel.numpy()

    for ours, loops, theirs in zip(numpy_fast(), numpy_loops(), tensorflow(), strict=True):
        np.testing.assert_allclose(ours, loops, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-3)  # float32 vs float64

    print(cpu_line())
    print(
        f"versions: Python {platform.python_version()}, NumPy {np.__version__}, "
        f"TensorFlow {tf.__version__}"
    )
    print(
        f"case: {args.size}x{args.size}x{CHANNELS} input, {FILTERS} filters of "
        f"{KERNEL_SIZE}x{KERNEL_SIZE}x{CHANNELS}, padding='same', one image; "
        f"gradients for input and kernel; best of {args.repeats} run(s), ms per call"
    )
    times = {
        "conv2d_backward (NumPy float64)": best_ms(numpy_fast, args.repeats, number=10),
        "conv2d_backward_loops (float64)": best_ms(numpy_loops, min(args.repeats, 3)),
        "tf.GradientTape (float32)": best_ms(tensorflow, args.repeats, number=10),
    }
    for name, ms in times.items():
        print(f"    {name:<32} {ms:10.3f} ms")
    fast, loops, tf_ms = times.values()
    speedup = loops / fast
    verdict = "MET" if speedup >= TARGET_SPEEDUP else "NOT MET"
    print(
        f"speed-up: conv2d_backward is {speedup:.0f}x faster than conv2d_backward_loops "
        f"(target >= {TARGET_SPEEDUP}x: {verdict})"
    )
    print(f"for reference: conv2d_backward / tf.GradientTape time: {fast / tf_ms:.2f}x")


if __name__ == "__main__":
    main()
