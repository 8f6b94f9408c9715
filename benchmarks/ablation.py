"""What each idea of the fast recipe is worth: switch one off, two seeds or more each.

Usage (from the course folder, with ``CIFAR10_DIR`` set)::

    python benchmarks/ablation.py --record benchmarks/results/ablation.jsonl
    python benchmarks/ablation.py --settings full "no augmentation" --seeds 0 1 2

Every setting trains the same small network (``widths=(16, 64, 64)``, batches
of 512, 6 epochs: about 2 minutes a run on 2 CPU cores) on 45,000 training
images and scores the 5,000 held out (`train_validation_split`, seed 0); the
test set is never used. ``full`` is the whole recipe at that size; every other
setting changes one thing (see `SETTINGS`). Each run prints one line and, with
``--record FILE``, appends one JSON line: the setting, the seed, validation
accuracy without and with test-time augmentation, the accuracy on 5,000 of the
(unaugmented) training images, seconds, the recipe's fields, the machine and
the date. A run that diverges is recorded with ``"diverged": true`` and no
accuracy. Notebook 12 reads ``benchmarks/results/ablation.jsonl``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from cifar_helpers.environment import enable_onednn
from cifar_helpers.notebook import quiet_tensorflow

#: One change each to the small `full` recipe.
SETTINGS = {
    "full": {},
    "no augmentation": {"crop_pad": 0, "flip": "none"},
    "constant learning rate": {"schedule": "constant", "learning_rate": 0.375},
    "no BatchNorm": {"batch_norm": False},
    "no BatchNorm, lr / 10": {"batch_norm": False, "learning_rate": 0.075},
    "no label smoothing": {"label_smoothing": 0.0},
    "no whitening": {"whitening": False},
}


def base_recipe(epochs=6):
    """The full recipe at ablation size (`FastConfig` with its defaults otherwise)."""
    from cifar_helpers.recipes import FastConfig

    return FastConfig(name="ablation", widths=(16, 64, 64), epochs=epochs, batch_size=512,
                      learning_rate=0.75, lookahead_every=5)


def run(setting, config, data, seed):
    """Train `config` once; return the record for `setting` and `seed`."""
    import numpy as np

    from cifar_helpers.predict import predict_classes
    from cifar_helpers.recipes import train_fast

    (x_train, y_train), (x_val, y_val) = data
    start = time.perf_counter()
    record = {"setting": setting, "seed": seed, "split": "validation", "diverged": False,
              "accuracy": None, "tta_accuracy": None, "train_accuracy": None}
    try:
        result = train_fast(config, x_train, y_train, x_val, y_val, seed=seed, print_fn=None)
    except FloatingPointError:
        record["diverged"] = True
    else:
        seen = predict_classes(result.model, x_train[:5000])
        record.update(accuracy=result.accuracy, tta_accuracy=result.tta_accuracy,
                      train_accuracy=float(np.mean(seen == y_train[:5000])))
    record["seconds"] = time.perf_counter() - start
    record["recipe"] = {key: list(value) if isinstance(value, tuple) else value
                        for key, value in dataclasses.asdict(config).items()}
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS),
                        metavar="SETTING", help=f"some of {list(SETTINGS)}")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--record", type=Path, default=None,
                        help="append each run as a JSON line to this file")
    parser.add_argument("--data-dir", default=None, help="CIFAR-10 folder (default: CIFAR10_DIR)")
    args = parser.parse_args(argv)

    enable_onednn()
    quiet_tensorflow()
    from train_speed import machine

    from cifar_helpers.data import load_cifar10
    from cifar_helpers.recipes import train_validation_split

    (x_all, y_all), _ = load_cifar10(args.data_dir)
    data = train_validation_split(x_all, y_all.reshape(-1), 5000, seed=0)
    described = machine()
    print(f"machine: {described}", flush=True)
    base = base_recipe(args.epochs)
    for seed in args.seeds:
        for setting in args.settings:
            record = run(setting, dataclasses.replace(base, **SETTINGS[setting]), data, seed)
            record.update(machine=described, date=time.strftime("%Y-%m-%d"))
            if args.record is not None:
                args.record.parent.mkdir(parents=True, exist_ok=True)
                with args.record.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
            if record["diverged"]:
                score = "diverged"
            else:
                score = (f"validation {record['accuracy']:.2%} (TTA {record['tta_accuracy']:.2%}), "
                         f"training images {record['train_accuracy']:.2%}")
            print(f"{setting:24s} seed {seed}: {score}; {record['seconds']:.0f} s", flush=True)


if __name__ == "__main__":
    main()
