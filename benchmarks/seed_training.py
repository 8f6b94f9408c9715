"""How fast does the seed model train on this machine, and how fast is predict_image?

Usage (from the course folder, with ``CIFAR10_DIR`` set)::

    python benchmarks/seed_training.py                       # the default comparison
    python benchmarks/seed_training.py --images 10000 --repeats 3 \\
        --configs fit-numpy,tfdata,tfdata+spe25,tfdata+threads2,jit

Every configuration trains the same model (``build_seed_model()``: batch 32, SGD
with the tutorial's decay) on the first ``--images`` training images, in its own
fresh Python process (thread settings only take effect before TensorFlow starts).
The first epoch (tracing, compiling, warming caches) is reported separately;
then ``--repeats`` epochs are timed and their median is scaled to the full
50,000-image epoch. Each timed epoch also reports the process' CPU time: on
2 cores a busy-alone run uses about twice its wall time; much less means other
programs took the CPU and the wall time is inflated. Configurations are parts joined with ``+``:

``fit-numpy``
    ``model.fit(x, y, batch_size=32)`` on float32 NumPy arrays (the tutorial's way).
``tfdata``
    a ``tf.data`` pipeline: uint8 images in memory, shuffled each epoch, batched,
    scaled to [0, 1] in the pipeline and prefetched (``cifar_helpers.training.make_dataset``).
``spe<N>``
    ``steps_per_execution=N``: N batches per call of the compiled training step.
``threads<N>``
    ``intra_op_parallelism_threads=N``, ``inter_op_parallelism_threads=1``.
``jit``
    ``jit_compile=True`` (XLA).
``keras``
    the network built from Keras' own classes (``build_seed_model(speedups=False)``)
    instead of `cifar_helpers.speedups`' faster drop-ins.
``bf16``
    ``dtype_policy="mixed_bfloat16"`` (fast only on CPUs with native bfloat16).

Then it times ``predict_image`` on a course photo (after one warm-up call) and,
for comparison, ``model.predict`` on the same single image. The machine is
shared, so repeat the run and read the medians; these are figures, not assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from cifar_helpers.environment import enable_onednn, onednn_enabled

FULL_EPOCH = 50_000
DEFAULT_CONFIGS = "tfdata+keras,tfdata,tfdata+bf16"


def _parse(config):
    options = {"tfdata": False, "steps_per_execution": 1, "threads": None, "jit": False,
               "keras": False, "bf16": False}
    for part in config.split("+"):
        if part == "fit-numpy":
            continue
        if part == "tfdata":
            options["tfdata"] = True
        elif part in ("jit", "keras", "bf16"):
            options[part] = True
        elif part.startswith("spe") and part[3:].isdigit():
            options["steps_per_execution"] = int(part[3:])
        elif part.startswith("threads") and part[7:].isdigit():
            options["threads"] = int(part[7:])
        else:
            raise SystemExit(
                f"unknown configuration part {part!r} in {config!r}; expected fit-numpy, "
                "tfdata, jit, keras, bf16, spe<N> or threads<N> joined with '+'"
            )
    return options


def worker(config, images, repeats):
    """Time one configuration in this process; print one result line."""
    options = _parse(config)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from cifar_helpers.notebook import quiet_tensorflow

    keras = quiet_tensorflow()
    import tensorflow as tf

    if options["threads"]:
        tf.config.threading.set_intra_op_parallelism_threads(options["threads"])
        tf.config.threading.set_inter_op_parallelism_threads(1)
    from cifar_helpers.data import load_cifar10, one_hot, scale_pixels
    from cifar_helpers.models import build_seed_model
    from cifar_helpers.training import make_dataset

    (x_train, y_train), _ = load_cifar10()
    x_train, y_train = x_train[:images], y_train[:images]
    keras.utils.set_random_seed(0)
    model = build_seed_model(
        jit_compile=options["jit"],
        speedups=not options["keras"],
        dtype_policy="mixed_bfloat16" if options["bf16"] else None,
    )
    if options["steps_per_execution"] > 1:
        model.compile(
            loss=model.loss,
            optimizer=model.optimizer,
            metrics=["accuracy"],
            jit_compile=options["jit"],
            steps_per_execution=options["steps_per_execution"],
        )
    if options["tfdata"]:
        dataset = make_dataset(x_train, one_hot(y_train), batch_size=32, shuffle=True, seed=0)

        def one_epoch():
            return model.fit(dataset, epochs=1, shuffle=False, verbose=0)
    else:
        x_float, y_hot = scale_pixels(x_train), one_hot(y_train)

        def one_epoch():
            return model.fit(x_float, y_hot, batch_size=32, epochs=1, verbose=0)

    start = time.perf_counter()
    one_epoch()
    first = time.perf_counter() - start
    times, cpu_times = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        history = one_epoch()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    median = statistics.median(times)
    print(
        f"{config:22s} first epoch {first:6.1f} s | timed epochs "
        f"{' '.join(f'{t:5.1f}' for t in times)} s (CPU "
        f"{' '.join(f'{t:5.1f}' for t in cpu_times)} s) per {images:,} images "
        f"=> {median * FULL_EPOCH / images:5.1f} s per 50,000-image epoch "
        f"(loss {history.history['loss'][-1]:.3f}; oneDNN {'on' if onednn_enabled() else 'off'})",
        flush=True,
    )


def time_prediction(calls):
    """Time predict_image on one photo against model.predict on the same image."""
    from cifar_helpers.notebook import quiet_tensorflow

    keras = quiet_tensorflow()
    import numpy as np

    from cifar_helpers.models import build_seed_model
    from cifar_helpers.photos import load_image, photo_path
    from cifar_helpers.predict import predict_image

    keras.utils.set_random_seed(0)
    model = build_seed_model()
    path = photo_path("truck_1.jpg")
    start = time.perf_counter()
    predict_image(model, path)
    first = time.perf_counter() - start
    with_file, with_array = [], []
    image = load_image(path)
    for _ in range(calls):
        start = time.perf_counter()
        predict_image(model, path)
        with_file.append(time.perf_counter() - start)
        start = time.perf_counter()
        predict_image(model, image)
        with_array.append(time.perf_counter() - start)
    batch = np.asarray(image, dtype=np.float32)[None] / 255.0
    model.predict(batch, verbose=0)
    with_predict = []
    for _ in range(min(calls, 20)):
        start = time.perf_counter()
        model.predict(batch, verbose=0)
        with_predict.append(time.perf_counter() - start)

    def ms(values):
        median, worst = 1000 * statistics.median(values), 1000 * max(values)
        return f"median {median:6.2f} ms, max {worst:6.2f} ms"

    print(f"predict_image(model, 'truck_1.jpg') first call: {1000 * first:7.1f} ms")
    print(f"predict_image(model, 'truck_1.jpg') next {calls} calls: {ms(with_file)}")
    print(f"predict_image(model, image array)   next {calls} calls: {ms(with_array)}")
    print(f"model.predict(one image) for comparison, {len(with_predict)} calls: {ms(with_predict)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000, help="training images per epoch")
    parser.add_argument("--repeats", type=int, default=2, help="timed epochs per configuration")
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="comma-separated")
    parser.add_argument("--predict-calls", type=int, default=50)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # Before TensorFlow is imported, here and in the workers (they inherit the environment);
    # TF_ENABLE_ONEDNN_OPTS=0 still wins.
    enable_onednn()
    if args.worker:
        worker(args.worker, args.images, args.repeats)
        return 0
    print(f"{os.cpu_count()} CPU cores; seed model, batch 32, {args.images:,} training images")
    if not args.skip_training:
        for config in args.configs.split(","):
            _parse(config)
            result = subprocess.run(
                [sys.executable, __file__, "--worker", config, "--images", str(args.images),
                 "--repeats", str(args.repeats)],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode:
                print(f"{config}: failed\n{result.stderr[-2000:]}")
            else:
                print(result.stdout.strip(), flush=True)
    time_prediction(args.predict_calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
