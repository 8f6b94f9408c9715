"""How much does dropout shrink the seed model's overfitting? Train with and without it.

Usage (from the course folder, with ``CIFAR10_DIR`` set)::

    python benchmarks/dropout_gap.py --record benchmarks/results/dropout_gap.jsonl
    python benchmarks/dropout_gap.py --train-images 2000 --epochs 2 --seeds 0   # a smoke test

The seed model (`build_seed_model`, Keras' own classes, the tutorial's SGD) is
trained on the first ``--train-images`` images of a seeded 45,000 / 5,000
training / validation split, with dropout as the tutorial has it (0.2 and 0.5)
and with both rates set to 0, once per seed. After every epoch both models are
scored the same way, with dropout off: on a fixed sample of the images they
train on, and on the 5,000 held-out validation images. The gap between the two
accuracies is what "overfitting" measures. The test set is never used.

One line per run and epoch is printed; with ``--record FILE`` every run is
appended to FILE as one JSON line (notebook 09 reads
``benchmarks/results/dropout_gap.jsonl``). The last lines printed summarise the
final gap per setting as mean and spread over the seeds.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import date
from pathlib import Path

from cifar_helpers.environment import enable_onednn
from cifar_helpers.notebook import quiet_tensorflow


def _parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-images", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", default="0,1", help="comma-separated seeds (default 0,1)")
    parser.add_argument("--sample", type=int, default=5_000,
                        help="training images scored after each epoch (default 5,000)")
    parser.add_argument("--record", type=Path, default=None)
    parser.add_argument("--data-dir", default=None)
    return parser


def cpu_name():
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run(dropout, seed, data, epochs, print_fn=print):
    """Train one seed model; return the per-epoch scores (both with dropout off)."""
    import keras

    from cifar_helpers.data import one_hot
    from cifar_helpers.models import build_seed_model
    from cifar_helpers.training import make_dataset

    (x_train, y_train), (x_sample, y_sample), (x_val, y_val) = data
    keras.utils.set_random_seed(seed)
    model = build_seed_model(dropout=dropout)
    train_set = make_dataset(x_train, one_hot(y_train), 32, shuffle=True, seed=seed)
    history = {"train_accuracy": [], "val_accuracy": [], "train_loss": [], "val_loss": []}
    start = time.perf_counter()
    for epoch in range(epochs):
        model.fit(train_set, epochs=epoch + 1, initial_epoch=epoch, verbose=0)
        for name, x, y in (("train", x_sample, y_sample), ("val", x_val, y_val)):
            loss, accuracy = model.evaluate(make_dataset(x, one_hot(y), 256), verbose=0)
            history[f"{name}_loss"].append(float(loss))
            history[f"{name}_accuracy"].append(float(accuracy))
        gap = history["train_accuracy"][-1] - history["val_accuracy"][-1]
        print_fn(f"dropout {'on ' if dropout else 'off'} seed {seed} "
                 f"epoch {epoch + 1:2d}/{epochs}: train {history['train_accuracy'][-1]:.4f}  "
                 f"val {history['val_accuracy'][-1]:.4f}  gap {gap:+.4f}")
    history["seconds"] = time.perf_counter() - start
    return history


def summarise(records):
    """'dropout on: final gap mean ± spread' lines, from run records."""
    lines = []
    for dropout in (True, False):
        runs = [r for r in records if r["dropout"] == dropout]
        if not runs:
            continue
        gaps = [r["train_accuracy"][-1] - r["val_accuracy"][-1] for r in runs]
        vals = [r["val_accuracy"][-1] for r in runs]
        spread = (max(gaps) - min(gaps)) / 2
        lines.append(
            f"dropout {'on ' if dropout else 'off'}: final gap {statistics.mean(gaps):+.4f} "
            f"± {spread:.4f} (half the range), validation accuracy {statistics.mean(vals):.4f}, "
            f"seeds {[r['seed'] for r in runs]}"
        )
    return lines


def main(argv=None, print_fn=print):
    args = _parser().parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if args.train_images < 1 or args.epochs < 1 or args.sample < 1 or not seeds:
        raise SystemExit("dropout_gap.py: --train-images, --epochs, --sample and --seeds "
                         "must be positive")
    enable_onednn()
    keras = quiet_tensorflow()
    from cifar_helpers.data import load_cifar10
    from cifar_helpers.recipes import train_validation_split

    (x_all, y_all), _ = load_cifar10(args.data_dir)
    (x_train, y_train), (x_val, y_val) = train_validation_split(x_all, y_all, 5000, seed=0)
    x_train, y_train = x_train[:args.train_images], y_train[:args.train_images]
    sample = min(args.sample, len(x_train))
    data = ((x_train, y_train), (x_train[:sample], y_train[:sample]), (x_val, y_val))
    machine = f"{cpu_name()}, Keras {keras.__version__}"
    print_fn(f"seed model, {len(x_train):,} training images, {len(x_val):,} validation images, "
             f"{args.epochs} epochs, seeds {seeds}; {machine}")
    records = []
    for seed in seeds:
        for dropout in (True, False):
            history = run(dropout, seed, data, args.epochs, print_fn)
            record = {"dropout": dropout, "seed": seed, "train_images": len(x_train),
                      "validation_images": len(x_val), "sample_images": sample,
                      "epochs": args.epochs, "machine": machine, "date": date.today().isoformat(),
                      **history}
            records.append(record)
            if args.record is not None:
                args.record.parent.mkdir(parents=True, exist_ok=True)
                with args.record.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
    for line in summarise(records):
        print_fn(line)
    return records


if __name__ == "__main__":
    main()
