"""Time one training step of the fast network with each lever, in one process.

Usage (from the course folder, with ``CIFAR10_DIR`` set)::

    python benchmarks/step_levers.py                      # the race recipe's levers
    python benchmarks/step_levers.py --widths 32,128,128 40,160,160 --activations gelu relu
    python benchmarks/step_levers.py --xla                # also with jit_compile=True
    python benchmarks/step_levers.py --activations relu --sizes 32 24 20  # smaller windows
    python benchmarks/step_levers.py --activations relu --optimizers sgd muon --batch-size 2000

For every combination of ``--widths``, ``--activations`` and BatchNorm kernel
(Keras' own layer, and `cifar_helpers.speedups.FusedBatchNormalization`), it
builds the network that `train_fast` trains (``fast-90``'s other settings,
bfloat16 where the CPU has native bfloat16 unless ``--dtype`` says otherwise),
times ``--steps`` training steps of ``--batch-size`` images with
`cifar_helpers.recipes.seconds_per_image`, best of ``--repeats``, and prints one
line: ``widths (32, 192, 192), relu, fused, mixed_bfloat16: 0.933 ms/image``.
With ``--sizes`` it also times the step on the centre windows of other sizes
(progressive resizing's small epochs), e.g. ``..., mixed_bfloat16, 20 px: ...``;
the network takes any image size, as the one `fast-90` trains does. With
``--optimizers sgd muon`` it times each optimizer of `cifar_helpers.recipes`
(``..., relu, fused, mixed_bfloat16, muon: ...``).
Compare lines of one run only: 2-core machines drift by a quarter within a
morning. ``benchmarks/README.md`` quotes its figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools

from cifar_helpers.environment import enable_onednn
from cifar_helpers.notebook import quiet_tensorflow


def widths_argument(text):
    """``"32,192,192"`` -> ``(32, 192, 192)``."""
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(
            f"widths must be positive ints separated by commas, e.g. 32,192,192. "
            f"Received {text!r}.")
    return widths


def step_line(widths, activation, kernel, policy, xla, seconds, size=32, optimizer=None):
    """One result line, e.g. ``widths (8, 16), relu, fused, float32: 1.234 ms/image``.

    An `optimizer` is named after the dtype policy (``..., float32, muon: ...``), and a
    `size` other than the images' 32 pixels last: ``..., float32, 20 px: ...``.
    """
    label = f"widths {tuple(widths)}, {activation}, {kernel}, {policy}" + (", XLA" * xla)
    label += f", {optimizer}" if optimizer else ""
    label += f", {size} px" if size != 32 else ""
    return f"{label}: {1000 * seconds:.3f} ms/image"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widths", type=widths_argument, nargs="+",
                        default=[(32, 192, 192)], help="e.g. 32,192,192 40,160,160")
    parser.add_argument("--activations", nargs="+", default=["gelu", "relu"])
    parser.add_argument("--dtype", choices=("auto", "float32", "mixed_bfloat16"),
                        default="auto")
    parser.add_argument("--xla", action="store_true", help="also time jit_compile=True")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32],
                        help="image sides to time: centre windows of the 32 x 32 images")
    parser.add_argument("--optimizers", nargs="+", choices=("sgd", "muon"), default=None,
                        help="time each optimizer (default: fast-90's, not named)")
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--batch-size", type=int, default=None,
                        help="images per step (default: fast-90's batch size)")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--data-dir", default=None, help="CIFAR-10 folder (default: CIFAR10_DIR)")
    args = parser.parse_args(argv)
    enable_onednn()  # before TensorFlow is imported
    quiet_tensorflow()

    from cifar_helpers.data import load_cifar10, one_hot
    from cifar_helpers.recipes import (
        CONFIGS,
        build_model_for,
        compile_for,
        resolved_dtype_policy,
        seconds_per_image,
    )

    if args.batch_size is None:
        args.batch_size = CONFIGS["fast-90"].batch_size
    if args.images < args.batch_size or min(args.steps, args.repeats, args.batch_size) < 1:
        parser.error(f"--images ({args.images}) must be at least --batch-size "
                     f"({args.batch_size}), and --steps, --repeats, --batch-size positive")
    if not all(9 <= size <= 32 for size in args.sizes):
        parser.error(f"--sizes must be from 9 to 32 pixels. Received {args.sizes}.")

    (x_train, y_train), _ = load_cifar10(args.data_dir)
    images, labels = x_train[:args.images], one_hot(y_train[:args.images].reshape(-1))
    steps_per_epoch = -(-50_000 // args.batch_size)
    optimizers = args.optimizers or [None]
    for widths, activation, optimizer in itertools.product(args.widths, args.activations,
                                                           optimizers):
        config = dataclasses.replace(CONFIGS["fast-90"], widths=widths, activation=activation,
                                     batch_size=args.batch_size, dtype_policy=args.dtype,
                                     small_size=20, small_epochs=1)  # any image size
        if optimizer:
            config = dataclasses.replace(config, optimizer=optimizer)
        policy = resolved_dtype_policy(config)
        for fused, xla in itertools.product((False, True), (False, True) if args.xla else (False,)):
            model = build_model_for(config, images, labels.shape[1], training=True,
                                    fused_batch_norm=fused)
            compile_for(model, config, steps_per_epoch)
            if xla:
                model.compile(optimizer=model.optimizer, loss=model.loss,
                              metrics=["accuracy"], jit_compile=True)
            for size in args.sizes:
                top = (32 - size) // 2
                windows = images[:, top:top + size, top:top + size]
                seconds = min(seconds_per_image(model, windows, labels, args.batch_size,
                                                steps=args.steps) for _ in range(args.repeats))
                print(step_line(widths, activation, "fused" if fused else "keras", policy, xla,
                                seconds, size, optimizer), flush=True)


if __name__ == "__main__":
    main()
