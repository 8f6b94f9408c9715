"""How fast is our NumPy convolution? Prints timings on this machine.

Run from the course folder::

    python benchmarks/conv_speed.py

Compares `conv2d` (vectorized), `conv2d_loops` (the teaching version),
``scipy.signal.correlate2d`` and ``tf.nn.conv2d`` on

(a) a 512x512 grayscale photo (``images/general_1.png``) with a 3x3 kernel, and
(b) a 32x32x32 input with 32 filters of 3x3x32 (a typical inner CNN layer),

and times `apply_filter` on a 512x512 RGB photo. Each figure is the best of
several repeats (the least disturbed by other programs). Targets: `conv2d` at
least 100x faster than `conv2d_loops` on (b), within 3x of ``correlate2d`` on
(a), and `apply_filter` under 50 ms so that a widget redraw feels instant.
"""

from __future__ import annotations

import os
import platform
import timeit

import numpy as np
import scipy
from PIL import Image, ImageOps
from scipy.signal import correlate2d

from cifar_helpers.convolution import conv2d, conv2d_loops
from cifar_helpers.environment import enable_onednn, onednn_enabled
from cifar_helpers.filters import apply_filter
from cifar_helpers.notebook import quiet_tensorflow
from cifar_helpers.photos import photo_path

PHOTO = "general_1.png"


def best_ms(function, number=1, repeat=5):
    """Best time of `repeat` runs of `number` calls, in milliseconds per call."""
    function()  # warm up (first-call costs, caches)
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number * 1e3


def load_photo(mode):
    """The course photo as a 512x512 array (resized and centre-cropped)."""
    with Image.open(photo_path(PHOTO)) as image:
        return np.asarray(ImageOps.fit(image.convert(mode), (512, 512)))


def verdict(met):
    return "MET" if met else "NOT MET"


def main():
    enable_onednn()  # before TensorFlow is imported; TF_ENABLE_ONEDNN_OPTS=0 still wins
    quiet_tensorflow()
    import tensorflow as tf

    rng = np.random.default_rng(0)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPU core(s), {platform.system()}; "
        f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
        f"TensorFlow {tf.__version__} (oneDNN {'on' if onednn_enabled() else 'off'})"
    )
    print("times: best of several repeats, milliseconds per call\n")

    # (a) 512x512 grayscale photo, one 3x3 kernel
    gray = load_photo("L").astype(np.float64) / 255.0
    kernel = rng.normal(size=(3, 3))
    gray_tf = tf.constant(gray[None, :, :, None], dtype=tf.float32)
    kernel_tf = tf.constant(kernel[:, :, None, None], dtype=tf.float32)
    np.testing.assert_allclose(conv2d(gray, kernel), correlate2d(gray, kernel, "valid"))
    a = {
        "conv2d": best_ms(lambda: conv2d(gray, kernel), number=5),
        "conv2d_loops": best_ms(lambda: conv2d_loops(gray, kernel), repeat=1),
        "scipy correlate2d": best_ms(lambda: correlate2d(gray, kernel, "valid"), number=5),
        "tf.nn.conv2d": best_ms(
            lambda: tf.nn.conv2d(gray_tf, kernel_tf, 1, "VALID").numpy(), number=5
        ),
    }
    print(f"(a) {PHOTO} as 512x512 grayscale, 3x3 kernel, padding='valid'")
    for name, ms in a.items():
        print(f"    {name:<18} {ms:10.2f} ms")

    # (b) 32x32x32 input, 32 filters of 3x3x32
    volume = rng.normal(size=(32, 32, 32))
    filters = rng.normal(size=(3, 3, 32, 32))
    volume_tf = tf.constant(volume[None], dtype=tf.float32)
    filters_tf = tf.constant(filters, dtype=tf.float32)

    def scipy_volume():
        return np.stack(
            [
                sum(correlate2d(volume[:, :, c], filters[:, :, c, f], "valid") for c in range(32))
                for f in range(32)
            ],
            axis=-1,
        )

    np.testing.assert_allclose(conv2d(volume, filters), scipy_volume(), atol=1e-9)
    b = {
        "conv2d": best_ms(lambda: conv2d(volume, filters), number=20),
        "conv2d_loops": best_ms(lambda: conv2d_loops(volume, filters), repeat=3),
        "scipy correlate2d": best_ms(scipy_volume, repeat=3),
        "tf.nn.conv2d": best_ms(
            lambda: tf.nn.conv2d(volume_tf, filters_tf, 1, "VALID").numpy(), number=20
        ),
    }
    print("\n(b) 32x32x32 input, 32 filters of 3x3x32, padding='valid'")
    print("    (scipy: one correlate2d per channel and filter, summed)")
    for name, ms in b.items():
        print(f"    {name:<18} {ms:10.2f} ms")

    # apply_filter on a 512x512 RGB photo
    rgb = load_photo("RGB")
    filter_ms = {
        name: best_ms(lambda name=name: apply_filter(rgb, name), number=5)
        for name in ("sharpen", "edge_laplace8")
    }
    print(f"\napply_filter on {PHOTO} as 512x512 RGB (uint8 in, display-ready uint8 out)")
    for name, ms in filter_ms.items():
        print(f"    {name:<18} {ms:10.2f} ms")

    speedup = b["conv2d_loops"] / b["conv2d"]
    versus_scipy = a["conv2d"] / a["scipy correlate2d"]
    slowest_filter = max(filter_ms.values())
    print("\ntargets")
    rows = [
        ("conv2d vs conv2d_loops on (b)", f"{speedup:.0f}x faster", ">= 100x", speedup >= 100),
        ("conv2d / correlate2d time on (a)", f"{versus_scipy:.2f}x", "<= 3x", versus_scipy <= 3),
        ("apply_filter 512x512 RGB", f"{slowest_filter:.1f} ms", "< 50 ms", slowest_filter < 50),
    ]
    for label, value, target, met in rows:
        print(f"    {label:<33} {value:>12}  (target {target:<8}) {verdict(met)}")
    print(
        f"\nfor reference: conv2d vs conv2d_loops on (a): "
        f"{a['conv2d_loops'] / a['conv2d']:.0f}x faster; "
        f"conv2d / tf.nn.conv2d time: {a['conv2d'] / a['tf.nn.conv2d']:.1f}x on (a), "
        f"{b['conv2d'] / b['tf.nn.conv2d']:.1f}x on (b)"
    )


if __name__ == "__main__":
    main()
