"""The ``cifar-course`` command: train, evaluate and use the course's CIFAR-10 model.

Examples (from a terminal, with ``CIFAR10_DIR`` pointing at ``cifar-10-batches-py``)::

    cifar-course train --model seed --epochs 10 --out model.keras
    cifar-course train --quick --out quick.keras          # 100 images per class, 1 epoch
    cifar-course train --model fast --out fast.keras      # notebook 12's fast-90 recipe
    cifar-course evaluate model.keras
    cifar-course predict model.keras truck.jpg cat.png

``train`` checks that it can write ``--out`` before it loads anything, prints
one line per epoch and the final test accuracy. The seed model backs up its
state after every epoch next to the output (``<out>.backup/``): if it is
interrupted (even killed), run the same command again and it resumes where it
stopped, with the result an uninterrupted run would give; ``--restart``
discards the backup. The backup is deleted only once the model is saved; if
saving fails, the model goes to a rescue file beside the backup and the error
names both. ``--model fast`` trains `cifar_helpers.recipes`' ``fast-90`` recipe
(a few minutes; no backup, an interrupted run starts again); ``evaluate`` and
``predict`` then add its test-time augmentation (``--no-tta`` leaves it out).
Errors (a missing model file, a file that is not a model, an unreadable photo…)
print one line, ``cifar-course <command>: error: ...``, to stderr and exit with
status 1 (2 for bad arguments).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

__all__ = ["main"]

MODELS = ("seed", "fast")
#: The recipe ``--model fast`` trains (`cifar_helpers.recipes.CONFIGS`).
FAST_RECIPE = "fast-90"
VALIDATION = ("split", "test", "none")
#: Training images held out for validation with ``--validation split`` (as notebook 09 does).
VALIDATION_SIZE = 5000
QUICK_TRAIN_PER_CLASS = 100
QUICK_TEST_PER_CLASS = 100


def _parser():
    parser = argparse.ArgumentParser(
        prog="cifar-course",
        description="Train, evaluate and use the CIFAR-10 course's CNN.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a model on CIFAR-10 and save it")
    train.add_argument("--model", choices=MODELS, default="seed",
                       help="which network: seed (the default, the tutorial's CNN) or fast "
                            f"(notebook 12's {FAST_RECIPE} recipe)")
    train.add_argument("--epochs", type=int, default=None,
                       help="epochs (default: 10 for seed, the recipe's for fast; 1 with --quick)")
    train.add_argument("--batch-size", type=int, default=None,
                       help="default: 32 for seed, as the tutorial; the recipe's for fast")
    train.add_argument("--out", type=Path, default=None,
                       help="where to save the .keras model (default: models/seed_cnn.keras "
                            "or models/fast_cnn.keras; *_quick.keras with --quick)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    train.add_argument("--quick", action="store_true",
                       help=f"train on {QUICK_TRAIN_PER_CLASS} images per class and test on "
                            f"{QUICK_TEST_PER_CLASS} per class (a smoke test)")
    train.add_argument("--validation", choices=VALIDATION, default="split",
                       help=f"what to evaluate after each epoch: {VALIDATION_SIZE:,} training "
                            "images held out (the default, as in notebook 09; 10%% of them "
                            "with --quick), the test set (the tutorial's habit: it then "
                            "helps choose the model), or nothing")
    train.add_argument("--data-dir", default=None,
                       help="cifar-10-batches-py folder (default: $CIFAR10_DIR)")
    train.add_argument("--restart", action="store_true",
                       help="seed model: discard the backup of an interrupted run and start "
                            "from epoch 1")
    train.add_argument("--mixed-precision", action="store_true",
                       help="compute in bfloat16 (faster on CPUs with native bfloat16, such as "
                            "AVX512-BF16 or AMX; slower on others)")

    evaluate = commands.add_parser("evaluate", help="test accuracy of a saved model")
    evaluate.add_argument("model_file", type=Path, metavar="MODEL")
    evaluate.add_argument("--quick", action="store_true",
                          help=f"use {QUICK_TEST_PER_CLASS} test images per class")
    evaluate.add_argument("--data-dir", default=None,
                          help="cifar-10-batches-py folder (default: $CIFAR10_DIR)")
    evaluate.add_argument("--no-tta", action="store_true",
                          help="a fast model: leave out test-time augmentation")

    predict = commands.add_parser("predict", help="classify photos with a saved model")
    predict.add_argument("model_file", type=Path, metavar="MODEL")
    predict.add_argument("photos", type=Path, nargs="+", metavar="PHOTO")
    predict.add_argument("--top-k", type=int, default=3, help="guesses per photo (default: 3)")
    predict.add_argument("--no-tta", action="store_true",
                         help="a fast model: leave out test-time augmentation")
    return parser


def _start_tensorflow():
    """Every command uses Keras: start TensorFlow fast and quiet."""
    from .environment import enable_onednn
    from .notebook import quiet_tensorflow

    enable_onednn()  # TensorFlow's fast CPU kernels, before TensorFlow is imported
    return quiet_tensorflow()  # keep TensorFlow's C++ start-up log off stderr


def _load_data(data_dir, quick):
    from .data import load_cifar10, one_hot, subset_per_class

    (x_train, y_train), (x_test, y_test) = load_cifar10(data_dir)
    if quick:
        x_train, y_train = subset_per_class(x_train, y_train, QUICK_TRAIN_PER_CLASS, seed=0)
        x_test, y_test = subset_per_class(x_test, y_test, QUICK_TEST_PER_CLASS, seed=0)
    return (x_train, one_hot(y_train)), (x_test, one_hot(y_test))


def _accuracy(model, x_test, y_test):
    import numpy as np

    from .predict import predict_probabilities

    probabilities = predict_probabilities(model, x_test)  # checks the model's input size
    if probabilities.shape[1:] != y_test.shape[1:]:
        raise ValueError(
            f"The model must have {y_test.shape[1]} outputs, one per CIFAR-10 class. "
            f"Received a model with output shape {model.output_shape}."
        )
    return float(np.mean(np.argmax(probabilities, axis=1) == np.argmax(y_test, axis=1)))


def _output(args):
    """The model file and backup folder of `train`, checked before anything loads."""
    from .config import model_path
    from .saving import check_folder, check_output_path

    epochs = args.epochs if args.epochs is not None else (1 if args.quick else None)
    if epochs is not None and epochs < 1:
        raise ValueError(f"--epochs must be a positive int. Received {epochs}.")
    if args.batch_size is not None and args.batch_size < 1:
        raise ValueError(f"--batch-size must be a positive int. Received {args.batch_size}.")
    if args.seed < 0:
        raise ValueError(f"--seed must be an int >= 0. Received {args.seed}.")
    if args.restart and args.model == "fast":
        raise ValueError("--restart is for the seed model, which resumes interrupted runs; "
                         "--model fast always starts from epoch 1.")
    name = "fast_cnn" if args.model == "fast" else "seed_cnn"
    out = args.out if args.out is not None else model_path(name, quick=args.quick)
    if out.suffix != ".keras":
        raise ValueError(f"--out must end in .keras (Keras 3's format). Received '{out}'.")
    try:
        check_output_path(out)
    except ValueError as exc:
        raise ValueError(f"--out {str(exc).removeprefix('`path` ')}") from None
    backup = out.with_name(out.name + ".backup")
    if backup.exists() or backup.is_symlink():  # else its folder (out's) was just checked
        check_folder(backup, "write the training backup")
    return out, backup, epochs


def _held_out(args, x_train, y_train, x_test, y_test):
    """The training images left for training, and the images ``--validation`` names."""
    if args.validation == "test":
        return (x_train, y_train), (x_test, y_test)
    if args.validation == "split":
        from .recipes import train_validation_split

        size = len(x_train) // 10 if args.quick else VALIDATION_SIZE
        return train_validation_split(x_train, y_train, size, seed=0)
    return (x_train, y_train), None


def _train(args):
    out, backup, epochs = _output(args)  # a bad --out fails now, before TensorFlow loads
    if args.model == "fast":
        return _train_fast(args, out, epochs)
    epochs = 10 if epochs is None else epochs
    batch_size = 32 if args.batch_size is None else args.batch_size
    keras = _start_tensorflow()
    from .models import build_seed_model
    from .training import remove_backup, save_or_rescue, train

    (x_train, y_train), (x_test, y_test) = _load_data(args.data_dir, args.quick)
    keras.utils.set_random_seed(args.seed)
    model = build_seed_model(dtype_policy="mixed_bfloat16" if args.mixed_precision else None)
    (x_train, y_train), validation_data = _held_out(args, x_train, y_train, x_test, y_test)
    print(
        f"training the {args.model} model on {len(x_train):,} images "
        f"({'quick run, ' if args.quick else ''}{epochs} epoch{'s' * (epochs != 1)}, "
        f"batch {batch_size}, seed {args.seed}, validation: {args.validation})",
        flush=True,
    )
    train(
        model,
        x_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=validation_data,
        seed=args.seed,
        backup_dir=backup,
        restart=args.restart,
        delete_backup=False,  # deleted below, once the model is safely saved
        print_fn=lambda line: print(line, flush=True),
    )
    save_or_rescue(model, out, backup, "the trained model")
    remove_backup(backup)
    accuracy = _accuracy(model, x_test, y_test)
    print(f"saved {out}")
    print(f"test accuracy: {accuracy:.2%} ({len(x_test):,} test images)")
    return 0


def _train_fast(args, out, epochs):
    import dataclasses

    import numpy as np

    _start_tensorflow()
    from .recipes import CONFIGS, resolved_dtype_policy, train_fast, with_epochs
    from .training import save_or_rescue

    config = CONFIGS[FAST_RECIPE]
    config = with_epochs(config, config.epochs if epochs is None else epochs)
    if args.batch_size is not None:
        config = dataclasses.replace(config, batch_size=args.batch_size)
    if args.mixed_precision:
        config = dataclasses.replace(config, dtype_policy="mixed_bfloat16")
    (x_train, y_train), (x_test, y_test) = _load_data(args.data_dir, args.quick)
    y_train, y_test = y_train.argmax(axis=1), y_test.argmax(axis=1)
    (x_train, y_train), held_out = _held_out(args, x_train, y_train, x_test, y_test)
    x_eval, y_eval = held_out if held_out is not None else (None, None)
    print(
        f"training the fast model ({FAST_RECIPE} recipe) on {len(x_train):,} images "
        f"({'quick run, ' if args.quick else ''}{config.epochs} epoch"
        f"{'s' * (config.epochs != 1)}, batch {config.batch_size}, "
        f"{resolved_dtype_policy(config)}, seed {args.seed}, validation: {args.validation})",
        flush=True,
    )
    result = train_fast(config, x_train, y_train, x_eval, y_eval, seed=args.seed,
                        print_fn=lambda line: print(line, flush=True))
    save_or_rescue(result.model, out, None, "the trained model")
    print(f"saved {out}")
    if held_out is not None:
        which = "test" if args.validation == "test" else "validation"
        print(f"{which} accuracy {result.accuracy:.2%}, with test-time augmentation "
              f"{result.tta_accuracy:.2%} ({len(x_eval):,} {which} images)")
    if args.validation != "test":
        _report_accuracy(result.model, "test", x_test, np.eye(10)[y_test], tta=True)
    return 0


def _report_accuracy(model, label, x_test, y_test, tta):
    import numpy as np

    from .predict import predict_tta

    accuracy = _accuracy(model, x_test, y_test)
    text = f"{label} accuracy {accuracy:.2%}"
    if tta:
        probabilities = predict_tta(model, x_test)
        tta_accuracy = float(np.mean(probabilities.argmax(1) == y_test.argmax(1)))
        text += f", with test-time augmentation {tta_accuracy:.2%}"
    print(f"{text} ({len(x_test):,} test images)")


def _uses_tta(model, args):
    from .models import FAST_MODEL_NAME

    return model.name == FAST_MODEL_NAME and not args.no_tta


def _evaluate(args):
    from .saving import load_model

    _start_tensorflow()
    model = load_model(args.model_file)
    _, (x_test, y_test) = _load_data(args.data_dir, args.quick)
    _report_accuracy(model, f"{args.model_file.name}: test", x_test, y_test,
                     _uses_tta(model, args))
    return 0


def _predict(args):
    from .predict import predict_image
    from .saving import load_model

    _start_tensorflow()
    model = load_model(args.model_file)
    tta = _uses_tta(model, args)
    for photo in args.photos:
        guesses = predict_image(model, photo, top_k=args.top_k, tta=tta)
        text = ", ".join(f"{name} {probability:.1%}" for name, probability in guesses)
        print(f"{photo.name}: {text}")
    return 0


_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _one_line(exc):
    """An exception as one plain line: no colour codes, no newlines."""
    text = " ".join(_ANSI_CODE.sub("", str(exc)).split())
    if isinstance(exc, (ValueError, OSError)) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main(argv=None):
    """Run the ``cifar-course`` command; return its exit status.

    Every error is one line on stderr, ``cifar-course <command>: error: ...``,
    with exit status 1 (argparse's usage errors: 2; Ctrl-C: 130).
    """
    args = _parser().parse_args(argv)
    command = {"train": _train, "evaluate": _evaluate, "predict": _predict}[args.command]
    try:
        return command(args)
    except KeyboardInterrupt:
        print(f"cifar-course {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every failure, reported as one line (never a traceback)
        print(f"cifar-course {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
