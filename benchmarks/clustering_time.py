"""Time notebook 11's three clustering runs on the CIFAR-10 test images.

For raw pixels, the hand-made feature and the CNN's Dense(512) features, print the
seconds for the features and for k-means (k = 10, n_init = 3), and the purity and
matched accuracy. Notebook 11's target is under 3 minutes in all on 2 CPU cores.

Usage::

    CIFAR10_DIR=/path/to/cifar-10-batches-py python benchmarks/clustering_time.py
    python benchmarks/clustering_time.py --images 1000 --method minibatch

The CNN is ``cifar_helpers.pretrained.load_or_train_seed_model()``: the trained
``models/seed_cnn.keras`` if it exists, else a quick stand-in (said so in the output).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from cifar_helpers import clustering
from cifar_helpers.data import load_cifar10, scale_pixels, subset_per_class
from cifar_helpers.environment import enable_onednn, onednn_enabled


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000,
                        help="test images to cluster (a multiple of 10; default all 10,000)")
    parser.add_argument("--method", choices=clustering.KMEANS_METHODS, default="kmeans")
    parser.add_argument("--n-init", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from cifar_helpers.notebook import quiet_tensorflow
    from cifar_helpers.pretrained import load_or_train_seed_model

    enable_onednn()  # before TensorFlow is imported; TF_ENABLE_ONEDNN_OPTS=0 still wins
    quiet_tensorflow()

    _, (x_test, y_test) = load_cifar10()
    if args.images < len(x_test):
        x_test, y_test = subset_per_class(x_test, y_test, args.images // 10, seed=args.seed)
    labels = y_test[:, 0]
    model = load_or_train_seed_model()

    feature_sets = {
        "raw pixels": lambda: clustering.pixel_features(x_test),
        "hand-made": lambda: clustering.standardize(clustering.handmade_features(x_test)),
        "CNN Dense(512)": lambda: clustering.layer_features(
            model, -3, scale_pixels(x_test), batch_size=500),
    }
    onednn = "on" if onednn_enabled() else "off"
    print(f"{len(x_test)} test images, k-means method={args.method!r}, n_init={args.n_init}, "
          f"{os.cpu_count()} CPUs ({platform.machine()}), oneDNN {onednn}")
    print(f"{'features':<16}{'shape':>14}{'features s':>12}{'k-means s':>11}"
          f"{'purity':>9}{'matched':>9}")
    total = 0.0
    for name, make in feature_sets.items():
        start = time.perf_counter()
        features = make()
        middle = time.perf_counter()
        clusters = clustering.kmeans_clusters(features, n_clusters=10, seed=args.seed,
                                              n_init=args.n_init, method=args.method)
        end = time.perf_counter()
        total += end - start
        scores = clustering.evaluate_clustering(clusters, labels)
        print(f"{name:<16}{str(features.shape):>14}{middle - start:>12.1f}{end - middle:>11.1f}"
              f"{scores['purity']:>9.1%}{scores['matched_accuracy']:>9.1%}")
    print(f"total for the three runs: {total:.1f} s")


if __name__ == "__main__":
    main()
