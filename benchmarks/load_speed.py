"""Time `load_cifar10()` from a local folder (target: under 3 s for all 60,000 images).

Usage: CIFAR10_DIR=/path/to/cifar-10-batches-py python benchmarks/load_speed.py
"""

import os
import platform
import statistics
import time

from cifar_helpers.data import load_cifar10


def main(repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        (x_train, _), (x_test, _) = load_cifar10()
        times.append(time.perf_counter() - start)
    n = len(x_train) + len(x_test)
    median = statistics.median(times)
    print(
        f"load_cifar10: {n} images, best {min(times):.2f} s, median {median:.2f} s "
        f"over {repeats} runs ({os.cpu_count()} CPUs, {platform.machine()}); "
        f"target < 3 s: {'met' if median < 3 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
