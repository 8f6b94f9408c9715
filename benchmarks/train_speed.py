"""Train a named recipe on CIFAR-10 and print its accuracy and wall time.

Usage (from the course folder, with ``CIFAR10_DIR`` set or CIFAR-10 in Keras' cache)::

    python benchmarks/train_speed.py fast-90              # the race recipe (notebook 12)
    python benchmarks/train_speed.py fast-94              # airbench94's widths, 16 epochs
    python benchmarks/train_speed.py seed                 # the tutorial's recipe, 10 epochs
    python benchmarks/train_speed.py seed --mixed-precision  # the same in bfloat16
    python benchmarks/train_speed.py fast-90 --validation # tune: 45,000 train / 5,000 held out
    python benchmarks/train_speed.py fast-90 --validation --set "widths=(40,160,160)"
    python benchmarks/train_speed.py race --record benchmarks/results/train_speed.jsonl

Configurations:

``seed``
    ``build_seed_model()`` trained as the tutorial does (batch 32, 10 epochs).
    ``--mixed-precision`` builds it with ``dtype_policy="mixed_bfloat16"``
    (faster only on CPUs with native bfloat16 instructions).
``fast-90``, ``fast-94``
    ``cifar_helpers.recipes.CONFIGS``: ``build_fast_model`` with BatchNorm and a
    whitened stem, a triangle schedule, label smoothing, crop + alternating-flip
    augmentation, flip-and-shift test-time augmentation; ``fast-90`` updates its
    convolution kernels with Muon in batches of 1000, ``fast-94`` uses Nesterov
    SGD in batches of 512.

``race``
    The seed recipe (10 epochs, plain Keras classes, as notebook 09 teaches it)
    and then a fast recipe (``--fast``, default ``fast-90``), one after the
    other in one process, each trained on the 50,000 training images and scored
    once on the test set. It prints one line, ``race: fast A% in T1 s; seed B%
    in T2 s; time ratio T1/T2 = R; <machine>``, and ``--record`` appends a line
    with a ``"race"`` object. The goal: ``A >= 89.5`` with ``R <= 1``.

Without ``--validation`` the recipe trains on all 50,000 training images and is
scored once on the 10,000 test images; no hyperparameter was chosen with them.
With ``--validation`` it trains on 45,000 and scores the 5,000 held out (seeded
split): use that when changing a recipe. The wall time counts everything from
building the model to the final accuracy (training, whitening, evaluation and
TTA), not loading the data (0.3-2 s).

Before a fast recipe, the seed recipe's epoch time is measured in the same run
(``--seed-batches`` batches of 32, scaled to a 50,000-image epoch), so the two
can be compared on the same machine at the same moment. ``--record FILE``
appends the result as one JSON line (notebook 12 reads
``benchmarks/results/train_speed.jsonl``). The last line printed is the result.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from pathlib import Path

from cifar_helpers.environment import enable_onednn
from cifar_helpers.notebook import quiet_tensorflow

NAMES = ("seed", "fast-90", "fast-94", "race")
FAST_NAMES = ("fast-90", "fast-94")


def accelerators():
    """Names of the accelerators the Keras backend computes on (empty on a CPU)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return [tf.config.experimental.get_device_details(device).get("device_name", "GPU")
                for device in tf.config.list_physical_devices("GPU")]
    if backend == "jax":
        import jax

        return [device.device_kind for device in jax.devices() if device.platform != "cpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


def cpu_description(cpuinfo=None):
    """The CPU's model name and widest vector unit, e.g. ``"AMD EPYC (AVX2)"``.

    Read from `cpuinfo` (the text of ``/proc/cpuinfo``; read from the file when
    None). Two machines with the same number of cores can differ 2-3 times in
    speed, and AVX-512 is most of that difference, so the result line names it.
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return platform.processor() or platform.machine()
    fields = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = fields.get("flags", "").split()
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{fields.get('model name') or platform.machine()} ({vector})"


def machine():
    """One line naming the CPU cores, the Keras backend and its version (with oneDNN's
    state under TensorFlow), and the GPUs."""
    import importlib.metadata

    import keras

    from cifar_helpers.environment import onednn_enabled

    backend = keras.backend.backend()  # also the name of its Python package
    try:
        version = f"{backend} {importlib.metadata.version(backend)}"
    except importlib.metadata.PackageNotFoundError:
        version = backend
    gpus = accelerators()
    onednn = {True: ", oneDNN on", False: ", oneDNN off", None: ""}[onednn_enabled()]
    return (f"{os.cpu_count()} CPU cores, {cpu_description()}, {backend} backend ({version}, "
            f"Keras {keras.__version__}{onednn}), GPUs: {len(gpus)}"
            + (f" ({', '.join(sorted(set(gpus)))})" if gpus else ""))


def seed_epoch_seconds(x_train, y_train, batches=200):
    """Time `batches` training steps of the seed recipe and scale to a full epoch."""
    import keras
    import numpy as np

    from cifar_helpers.data import one_hot
    from cifar_helpers.models import build_seed_model
    from cifar_helpers.training import make_dataset

    keras.utils.set_random_seed(0)
    model = build_seed_model()
    n = min(len(x_train), 32 * (batches + 20))
    dataset = make_dataset(x_train[:n], one_hot(y_train[:n]), batch_size=32, shuffle=True, seed=0)
    iterator = iter(dataset.repeat())
    for _ in range(20):  # trace and warm up
        model.train_on_batch(*next(iterator))
    start = time.perf_counter()
    for _ in range(batches):
        model.train_on_batch(*next(iterator))
    per_batch = (time.perf_counter() - start) / batches
    return per_batch * int(np.ceil(50_000 / 32))


def run_seed(x_train, y_train, x_test, y_test, epochs, seed, dtype_policy=None):
    from cifar_helpers.data import one_hot
    from cifar_helpers.models import build_seed_model
    from cifar_helpers.predict import predict_classes
    from cifar_helpers.training import train

    start = time.perf_counter()
    model = build_seed_model(dtype_policy=dtype_policy)
    history = train(model, x_train, one_hot(y_train), epochs=epochs, batch_size=32, seed=seed)
    train_seconds = time.perf_counter() - start
    accuracy = float((predict_classes(model, x_test) == y_test.reshape(-1)).mean())
    return {
        "accuracy": accuracy, "tta_accuracy": None, "train_seconds": train_seconds,
        "total_seconds": time.perf_counter() - start, "epochs": epochs,
        "epoch_seconds": train_seconds / max(len(history.history["loss"]), 1),
        "dtype_policy": dtype_policy or "float32",
    }


def parse_settings(pairs):
    """``["epochs=10", "dtype_policy=mixed_bfloat16"]`` -> a dict of `FastConfig` fields.

    Values are read as Python literals (ints, floats, tuples, True); anything
    else is kept as a string.
    """
    import ast

    from cifar_helpers.recipes import FastConfig

    fields = {field.name for field in dataclasses.fields(FastConfig)}
    settings = {}
    for pair in pairs:
        key, equals, text = pair.partition("=")
        if not equals or key not in fields:
            raise ValueError(f"--set takes FIELD=VALUE with FIELD one of {sorted(fields)}. "
                             f"Received {pair!r}.")
        try:
            settings[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            settings[key] = text
    return settings


def _fused_batch_norm():
    """Whether the fast recipes train with `FusedBatchNormalization`'s fused kernel here."""
    import keras

    return keras.backend.backend() == "tensorflow"


def fast_config(name, settings=None, epochs=None):
    """Recipe `name` with `settings` (``--set``) and `epochs` (``--epochs``) applied.

    A new number of epochs, from ``--epochs`` or from ``--set epochs=N`` without
    ``small_size`` or ``small_epochs``, keeps the recipe's share of progressive
    resizing (`with_epochs`), so ``--set epochs=1`` works for every recipe.
    """
    from cifar_helpers.recipes import CONFIGS, with_epochs

    settings = dict(settings or {})
    if epochs is None and "epochs" in settings and not {"small_size", "small_epochs"} & set(
            settings):
        epochs = settings.pop("epochs")
    config = dataclasses.replace(CONFIGS[name], **settings)
    return config if epochs is None else with_epochs(config, epochs)


def run_fast(name, x_train, y_train, x_test, y_test, epochs, seed, settings=None):
    from cifar_helpers.recipes import resolved_dtype_policy, train_fast

    config = fast_config(name, settings, epochs)
    start = time.perf_counter()
    result = train_fast(config, x_train, y_train, x_test, y_test, seed=seed)
    return {
        "model": result.model,  # run_race scores it; nothing else keeps it
        "accuracy": result.accuracy, "tta_accuracy": result.tta_accuracy,
        "train_seconds": result.train_seconds, "total_seconds": time.perf_counter() - start,
        "epochs": config.epochs, "epoch_seconds": sum(result.history["seconds"]) / config.epochs,
        "widths": list(config.widths), "batch_size": config.batch_size,
        "lookahead_every": config.lookahead_every,
        "dtype_policy": resolved_dtype_policy(config),
        "batch_norm_kernel": "fused" if config.batch_norm and _fused_batch_norm() else "keras",
        "scored_in": resolved_dtype_policy(config),  # train_fast scores the trained copy
        "recipe": {key: list(value) if isinstance(value, tuple) else value
                   for key, value in dataclasses.asdict(config).items()},
    }


def race_line(race, described):
    """The race's one-line result, e.g. ``race: fast 89.61% in 480 s; seed 67.99% in 490 s;
    time ratio T1/T2 = 0.98; 2 CPU cores, ...``."""
    return (f"race: fast {100 * race['fast_accuracy']:.2f}% in {race['fast_seconds']:.0f} s; "
            f"seed {100 * race['seed_accuracy']:.2f}% in {race['seed_seconds']:.0f} s; "
            f"time ratio T1/T2 = {race['time_ratio']:.2f}; {described}")


def run_race(fast_name, x_train, y_train, x_test, y_test, seed, settings=None, print_fn=print):
    """The seed recipe, then `fast_name`, in this process; the record's fields."""
    seed_run = run_seed(x_train, y_train, x_test, y_test, 10, seed)
    print_fn(f"seed recipe: test accuracy {seed_run['accuracy']:.2%} in "
             f"{seed_run['total_seconds']:.0f} s")
    fast_run = run_fast(fast_name, x_train, y_train, x_test, y_test, None, seed, settings)
    if fast_run.get("dtype_policy", "float32") != "float32":
        # After the clock: the saved float32 model's own scores, for comparison.
        from cifar_helpers.predict import predict_tta

        probabilities, plain = predict_tta(fast_run.pop("model"), x_test, return_plain=True)
        fast_run["float32_accuracy"] = float((plain.argmax(1) == y_test.reshape(-1)).mean())
        fast_run["float32_tta_accuracy"] = float(
            (probabilities.argmax(1) == y_test.reshape(-1)).mean())
    fast_run.pop("model", None)
    fast_accuracy = fast_run["tta_accuracy"]
    if fast_accuracy is None:
        fast_accuracy = fast_run["accuracy"]
    race = {
        "fast_accuracy": fast_accuracy, "fast_plain_accuracy": fast_run["accuracy"],
        "seed_accuracy": seed_run["accuracy"],
        "fast_seconds": fast_run["total_seconds"], "seed_seconds": seed_run["total_seconds"],
        "time_ratio": fast_run["total_seconds"] / seed_run["total_seconds"],
    }
    return {"race": race, "fast": fast_name, "recipe": fast_run["recipe"],
            "seed_run": seed_run, "fast_run": {k: v for k, v in fast_run.items() if k != "recipe"}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", choices=NAMES)
    parser.add_argument("--validation", action="store_true",
                        help="train on 45,000 images and score the 5,000 held out")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fast", choices=FAST_NAMES, default="fast-90",
                        help="race: the fast recipe that runs against the seed recipe")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="fast recipes: change one FastConfig field (repeatable)")
    parser.add_argument("--mixed-precision", action="store_true",
                        help="seed recipe only: compute in bfloat16 (mixed_bfloat16 policy)")
    parser.add_argument("--seed-batches", type=int, default=200,
                        help="batches timed for the seed recipe's epoch time (0: skip)")
    parser.add_argument("--record", type=Path, default=None,
                        help="append the result as a JSON line to this file")
    parser.add_argument("--data-dir", default=None, help="CIFAR-10 folder (default: CIFAR10_DIR)")
    args = parser.parse_args(argv)
    enable_onednn()  # before TensorFlow is imported; TF_ENABLE_ONEDNN_OPTS=0 still wins

    if args.config == "race" and args.validation:
        parser.error("the race is scored on the test set; tune with --validation on a recipe")
    if args.config == "race" and (args.epochs is not None or args.mixed_precision):
        parser.error("the race trains the seed recipe for 10 epochs in float32; change the "
                     "fast recipe with --set (e.g. --set epochs=10)")
    if args.set and args.config == "seed":
        parser.error("--set changes a fast recipe; the seed recipe has no FastConfig")
    if args.mixed_precision and args.config != "seed":
        parser.error(f"--mixed-precision is for the seed recipe; received config {args.config!r}")
    backend = quiet_tensorflow().backend.backend()
    try:
        settings = parse_settings(args.set)
        if args.config != "seed":  # a bad value fails now, not after minutes of training
            fast_config(args.fast if args.config == "race" else args.config, settings,
                        args.epochs)
    except (ValueError, TypeError) as error:
        parser.error(str(error))
    if args.config in ("seed", "race") and backend != "tensorflow":
        parser.error("the seed recipe's input pipeline is tf.data: run it with the "
                     f"TensorFlow backend (KERAS_BACKEND is {backend!r})")
    from cifar_helpers.data import load_cifar10
    from cifar_helpers.recipes import train_validation_split

    (x_train, y_train), (x_test, y_test) = load_cifar10(args.data_dir)
    y_train, y_test = y_train.reshape(-1), y_test.reshape(-1)
    split = f"test ({len(x_test):,} images)"
    if args.validation:
        (x_train, y_train), (x_test, y_test) = train_validation_split(x_train, y_train, 5000)
        split = f"validation ({len(x_test):,} held-out training images)"
    described = machine()
    print(f"machine: {described}", flush=True)
    if args.config == "race":
        result = run_race(args.fast, x_train, y_train, x_test, y_test, args.seed, settings)
        result.update({"config": "race", "split": "test", "seed": args.seed,
                       "machine": described, "date": time.strftime("%Y-%m-%d")})
        if args.record is not None:
            args.record.parent.mkdir(parents=True, exist_ok=True)
            with args.record.open("a") as handle:
                handle.write(json.dumps(result) + "\n")
        print(race_line(result["race"], described))
        return
    seed_epoch = None
    if args.config != "seed" and args.seed_batches and backend == "tensorflow":
        seed_epoch = seed_epoch_seconds(x_train, y_train, args.seed_batches)
        print(f"seed recipe on this machine now: {seed_epoch:.1f} s per 50,000-image epoch "
              f"(timed over {args.seed_batches} batches of 32)", flush=True)
    if args.config == "seed":
        policy = "mixed_bfloat16" if args.mixed_precision else None
        result = run_seed(x_train, y_train, x_test, y_test, args.epochs or 10, args.seed, policy)
        seed_epoch = result["epoch_seconds"]
    else:
        result = run_fast(args.config, x_train, y_train, x_test, y_test, args.epochs, args.seed,
                          settings)
        result.pop("model")
    result.update({
        "config": args.config, "split": "validation" if args.validation else "test",
        "seed": args.seed, "seed_epoch_seconds": seed_epoch, "machine": described,
        "date": time.strftime("%Y-%m-%d"),
    })
    if args.record is not None:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        with args.record.open("a") as handle:
            handle.write(json.dumps(result) + "\n")
    tta = result["tta_accuracy"]
    score = f"{100 * result['accuracy']:.2f}%"
    if tta is not None:
        score = f"{100 * tta:.2f}% with TTA ({score} without)"
    seed_note = f"; seed recipe {seed_epoch:.1f} s/epoch" if seed_epoch is not None else ""
    label = args.config + (" (mixed_bfloat16)" if result.get("dtype_policy") == "mixed_bfloat16"
                           else "")
    print(f"{label}: {split} accuracy {score}; wall time {result['total_seconds'] / 60:.1f} "
          f"min ({result['train_seconds']:.0f} s training, {result['epochs']} epochs, "
          f"{result['epoch_seconds']:.1f} s/epoch{seed_note}); {described}")


if __name__ == "__main__":
    main()
