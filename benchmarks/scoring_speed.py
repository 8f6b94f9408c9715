"""Time test-time augmentation over the test images two ways, in one process.

Usage (from the course folder, with ``CIFAR10_DIR`` set)::

    python benchmarks/scoring_speed.py                  # 10,000 test images, 2 repeats
    python benchmarks/scoring_speed.py --images 2000 --repeats 1

`cifar_helpers.predict.predict_tta` makes 6 passes over the images (as they are,
mirrored, and shifted by one pixel diagonally each way, each mirrored too). It
runs each pass as one call of the model's cached ``tf.function`` per batch of
1,000; before 2026-11-30 it called Keras' ``model.predict`` once per pass, which
builds a tf.data pipeline for every call. This script times both on a fresh copy of the
network `fast-90` trains (bfloat16 where the CPU has native bfloat16), so that
each includes its tracing, checks that they give the same probabilities, and
prints one line per repeat:
``predict_tta: 19.4 s; model.predict per pass: 26.8 s; ratio 0.72 (10,000 images)``.
The race's clock includes this scoring (``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cifar_helpers.environment import enable_onednn
from cifar_helpers.notebook import quiet_tensorflow


def tta_with_model_predict(model, images, batch_size=1000):
    """`predict_tta`'s 6 passes and weights, each pass one ``model.predict`` call."""
    from cifar_helpers.augmentation import flip_images, shift_images
    from cifar_helpers.data import unit_pixels

    images = unit_pixels(images)

    def pair(batch):
        plain = model.predict(batch, batch_size=batch_size, verbose=0)
        mirrored = model.predict(np.ascontiguousarray(flip_images(batch)),
                                 batch_size=batch_size, verbose=0)
        return (plain + mirrored) / 2

    moved = [pair(np.ascontiguousarray(shift_images(images, d, d))) for d in (1, -1)]
    return pair(images) / 2 + (moved[0] + moved[1]) / 4


def scoring_line(new_seconds, old_seconds, images):
    """One result line, e.g. ``predict_tta: 19.3 s; ...; ratio 0.79 (10,000 images)``."""
    return (f"predict_tta: {new_seconds:.1f} s; model.predict per pass: {old_seconds:.1f} s; "
            f"ratio {new_seconds / old_seconds:.2f} ({images:,} images)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--data-dir", default=None, help="CIFAR-10 folder (default: CIFAR10_DIR)")
    args = parser.parse_args(argv)
    if min(args.images, args.repeats) < 1:
        parser.error(f"--images and --repeats must be positive. Received {args.images} and "
                     f"{args.repeats}.")
    enable_onednn()  # before TensorFlow is imported
    quiet_tensorflow()

    from cifar_helpers.data import load_cifar10
    from cifar_helpers.notebook import no_retracing_warnings
    from cifar_helpers.predict import predict_tta
    from cifar_helpers.recipes import CONFIGS, build_model_for

    (x_train, _), (x_test, _) = load_cifar10(args.data_dir)
    images = x_test[:args.images]
    weights = build_model_for(CONFIGS["fast-90"], x_train, training=True).get_weights()
    for _ in range(args.repeats):
        seconds, outputs = [], []
        for score in (predict_tta, tta_with_model_predict):
            model = build_model_for(CONFIGS["fast-90"], x_train, training=True)
            model.set_weights(weights)  # a fresh network each time: both include tracing
            start = time.perf_counter()
            with no_retracing_warnings():
                outputs.append(score(model, images))
            seconds.append(time.perf_counter() - start)
        np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-6)
        print(scoring_line(seconds[0], seconds[1], len(images)), flush=True)


if __name__ == "__main__":
    main()
