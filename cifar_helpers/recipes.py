"""Training recipes that get a small CNN to 90-94% on CIFAR-10 on a laptop CPU.

The ideas come from the fastest published CIFAR-10 recipes (Keller Jordan's
airbench94 and David Page's "How to train your ResNet"), rewritten in Keras:

- `build_fast_model` (in `cifar_helpers.models`): a VGG-style net with BatchNorm
  and a frozen, patch-whitening first layer (`patch_whitening_kernel`), trained
  with BatchNorm's fused TensorFlow kernel (`cifar_helpers.speedups`) and saved
  with Keras' own classes;
- big batches (512-2000) with Nesterov SGD, PyTorch-style weight decay and a
  64-times learning rate for the BatchNorm biases (`BiasScaledSGD`), or the
  same with the convolution kernels updated by Muon (`MuonSGD`, as in
  airbench94_muon);
- a learning rate that warms up then decays linearly to zero
  (`TriangularSchedule`, values from `triangular_learning_rate`);
- label smoothing (Keras' ``CategoricalCrossentropy(label_smoothing=...)``);
- random crops and alternating flips, vectorized over whole batches
  (`cifar_helpers.augmentation`);
- test-time augmentation: average the predictions for mirrored and shifted
  copies (`predict_tta`).

`FastConfig` names one recipe, `CONFIGS` holds the benchmark's ``fast-90`` and
``fast-94``, and `train_fast` trains one and reports its accuracy and wall time.
The optimizer and schedule classes live in `cifar_helpers.optimizers`, and
`predict_tta` in `cifar_helpers.predict`. This module imports Keras.
"""

from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np

from .augmentation import alternating_flip_mask, augment_batch, random_flip, random_window
from .data import one_hot, scale_pixels, unit_pixels
from .environment import native_bfloat16
from .models import build_fast_model, patch_whitening_kernel
from .notebook import no_retracing_warnings
from .optimizers import BiasScaledSGD, MuonSGD, TriangularSchedule
from .predict import predict_probabilities, predict_tta
from .training import format_epoch_log

__all__ = [
    "CONFIGS",
    "FastConfig",
    "FastResult",
    "lookahead_decay",
    "seconds_per_image",
    "build_model_for",
    "compile_for",
    "resolved_dtype_policy",
    "train_fast",
    "train_validation_split",
    "with_epochs",
]


@dataclasses.dataclass(frozen=True)
class FastConfig:
    """One training recipe for `train_fast`; change a field with ``dataclasses.replace``.

    The defaults are airbench94's hyperparameters translated to Keras' mean
    loss: its per-1024-image learning rate 11.5 and weight decay 0.0153 become
    a peak learning rate of 1.5 and an L2 coefficient of 1.33e-3.

    Attributes
    ----------
    name : str
    widths : tuple of int
        Channels of the conv groups (see `cifar_helpers.models.build_fast_model`).
    epochs, batch_size : int
    learning_rate : float
        The peak (or constant) learning rate, for the batch's mean loss.
    momentum : float
        Nesterov momentum.
    weight_decay : float
        PyTorch-style L2: ``weight_decay * w`` is added to every gradient.
    bias_lr_scale : float
        BatchNorm biases learn this many times faster (airbench: 64).
    label_smoothing : float
    schedule : {"triangle", "constant"}
    warmup_fraction : float
        Share of the steps spent warming up (triangle schedule).
    batch_norm, whitening : bool
        BatchNorm layers; a frozen patch-whitening stem.
    activation : str
    crop_pad : int
        Random translations up to this many pixels (0: none).
    flip : {"alternating", "random", "none"}
    tta : bool
        Also report accuracy with test-time augmentation.
    lookahead_every : int
        Lookahead weight averaging (airbench): every this many steps, the
        weights move to an average of their recent values (`lookahead_decay`);
        0 turns it off.
    small_size, small_epochs : int
        Progressive resizing: the first `small_epochs` epochs train on random
        `small_size` x `small_size` windows of the images (and flips) instead
        of the padded crops; the last epochs see whole images. 0 turns it off.
        On the course's 2-core machine a training step of `fast-90`'s network on
        20 x 20 windows took 0.36 of one on whole images, on 24 x 24 windows 0.54
        (``benchmarks/step_levers.py --sizes 32 24 20``).
    optimizer : {"sgd", "muon"}
        ``"sgd"``: `BiasScaledSGD` for every weight (airbench94). ``"muon"``:
        `MuonSGD`, which updates the convolution kernels with Muon
        (airbench94_muon) at `muon_learning_rate` (following the same schedule)
        with Nesterov momentum `muon_momentum`, and the rest as ``"sgd"`` does.
    muon_learning_rate, muon_momentum : float
        Used with ``optimizer="muon"`` only.
    dtype_policy : str
        ``"float32"``, or ``"mixed_bfloat16"`` to compute the convolutions in
        bfloat16 while training (faster on CPUs with native bfloat16
        instructions, such as AVX512-BF16; slower on others), or ``"auto"``:
        bfloat16 where the CPU has them (`resolved_dtype_policy`). The returned
        model computes in float32 either way.
    """

    name: str = "fast"
    widths: tuple = (64, 256, 256)
    epochs: int = 10
    batch_size: int = 1024
    learning_rate: float = 1.5
    momentum: float = 0.85
    weight_decay: float = 1.33e-3
    bias_lr_scale: float = 64.0
    label_smoothing: float = 0.2
    schedule: str = "triangle"
    warmup_fraction: float = 0.2
    batch_norm: bool = True
    whitening: bool = True
    activation: str = "gelu"
    crop_pad: int = 2
    flip: str = "alternating"
    tta: bool = True
    lookahead_every: int = 0
    small_size: int = 0
    small_epochs: int = 0
    optimizer: str = "sgd"
    muon_learning_rate: float = 0.24
    muon_momentum: float = 0.6
    dtype_policy: str = "float32"

    def __post_init__(self):
        if self.schedule not in ("triangle", "constant"):
            raise ValueError(
                f"`schedule` must be 'triangle' or 'constant'. Received {self.schedule!r}."
            )
        if self.flip not in ("alternating", "random", "none"):
            raise ValueError(
                f"`flip` must be 'alternating', 'random' or 'none'. Received {self.flip!r}."
            )
        for field in ("epochs", "batch_size"):
            value = getattr(self, field)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{field}` must be a positive int. Received {value!r}.")
        if self.optimizer not in ("sgd", "muon"):
            raise ValueError(
                f"`optimizer` must be 'sgd' or 'muon'. Received {self.optimizer!r}."
            )
        if not self.muon_learning_rate > 0 or not 0 <= self.muon_momentum < 1:
            raise ValueError(
                "`muon_learning_rate` must be > 0 and `muon_momentum` in [0, 1). Received "
                f"muon_learning_rate={self.muon_learning_rate!r}, "
                f"muon_momentum={self.muon_momentum!r}."
            )
        if self.dtype_policy not in ("float32", "mixed_bfloat16", "auto"):
            raise ValueError(
                "`dtype_policy` must be 'float32', 'mixed_bfloat16' or 'auto'. "
                f"Received {self.dtype_policy!r}."
            )
        for field in ("small_size", "small_epochs"):
            value = getattr(self, field)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"`{field}` must be an int >= 0. Received {value!r}.")
        if self.small_epochs > self.epochs or (self.small_epochs > 0) != (self.small_size > 0):
            raise ValueError(
                "Progressive resizing needs both `small_size` > 0 and `small_epochs` from 1 "
                f"to `epochs` ({self.epochs}), or both 0. Received small_size="
                f"{self.small_size}, small_epochs={self.small_epochs}."
            )
        smallest = 2 ** len(self.widths) + 1  # the stem takes 1 pixel, each group halves
        if self.small_size and self.small_size < smallest:
            raise ValueError(
                f"`small_size` must be at least {smallest} for {len(self.widths)} conv groups "
                f"(each halves the image). Received small_size={self.small_size}."
            )
        if not isinstance(self.lookahead_every, int) or self.lookahead_every < 0:
            raise ValueError(
                "`lookahead_every` must be an int >= 0 (0: no lookahead). "
                f"Received {self.lookahead_every!r}."
            )
        if not self.learning_rate > 0:
            raise ValueError(
                f"`learning_rate` must be > 0. Received {self.learning_rate!r}."
            )
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(
                f"`label_smoothing` must be in [0, 1). Received {self.label_smoothing!r}."
            )


#: The benchmark's recipes (``benchmarks/train_speed.py``). fast-94 is airbench94's
#: recipe at airbench's widths: its learning rate scaled to batches of 512 (on 2 CPU
#: cores they cost no more per image than 1024 and give twice the steps), and Lookahead
#: every 5 steps, chosen on the validation split (the earlier fast-90, widths
#: (40, 160, 160) for 12 epochs, scored 89.52% and 89.78% with it against 89.22% and
#: 89.44% without, seeds 0 and 1).
#: fast-90 is the race recipe (``train_speed.py race``): its width, activation, dtype,
#: progressive resizing and optimizer were chosen from runs on the validation split
#: (``benchmarks/README.md``), and its epochs from the measured time per epoch, so that
#: it trains and tests in the seed recipe's time on the course's 2-core machine: 11
#: epochs, the first 2 on 20 x 20 windows, cost what 10 epochs on whole images cost.
#: It computes in bfloat16 where the CPU has native bfloat16 instructions, and uses
#: ReLU, whose step takes about 0.8 of GELU's on a CPU (airbench's GELU evaluates erf
#: for every activation). Its convolution kernels learn with Muon, as in
#: airbench94_muon, in batches of 1000 without warm-up or Lookahead (airbench94_muon's
#: settings; the rest learns at 0.83 with weight decay 2.4e-3, its values in Keras'
#: mean loss): with TTA it beat the same network on SGD on each of 5 paired seeds.
CONFIGS = {
    "fast-90": FastConfig(name="fast-90", widths=(32, 192, 192), epochs=11, batch_size=1000,
                          learning_rate=0.83, weight_decay=2.4e-3, warmup_fraction=0.0,
                          optimizer="muon", activation="relu", small_size=20, small_epochs=2,
                          dtype_policy="auto"),
    "fast-94": FastConfig(name="fast-94", widths=(64, 256, 256), epochs=16, batch_size=512,
                          learning_rate=0.75, lookahead_every=5),
}


def seconds_per_image(model, images, labels, batch_size, steps=5, warmup=2):
    """Measured training time per image of `model` at `batch_size` (compiled model).

    Runs `warmup` untimed steps (tracing) and then `steps` timed ones on
    batches cut from `images`/`labels` (one-hot), cycling through them.

    Returns
    -------
    float
        Wall seconds per training image.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) < batch_size or len(labels) != len(images):
        raise ValueError(
            f"`images` and `labels` must hold at least batch_size={batch_size} matching "
            f"examples. Received {len(images)} images and {len(labels)} labels."
        )
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"`steps` must be a positive int. Received {steps!r}.")
    batches = len(images) // batch_size

    def batch(i):
        first = (i % batches) * batch_size
        return unit_pixels(images[first:first + batch_size]), labels[first:first + batch_size]

    with no_retracing_warnings():
        for i in range(warmup):
            model.train_on_batch(*batch(i))
        start = time.perf_counter()
        for i in range(steps):
            model.train_on_batch(*batch(warmup + i))
    return (time.perf_counter() - start) / (steps * batch_size)


def train_validation_split(images, labels, validation_size=5000, seed=0):
    """Hold out `validation_size` random training examples for choosing hyperparameters.

    Returns
    -------
    (x_train, y_train), (x_val, y_val)

    Examples
    --------
    >>> (a, _), (b, _) = train_validation_split(np.arange(10), np.arange(10), 3)
    >>> len(a), len(b), sorted(set(a) | set(b)) == list(range(10))
    (7, 3, True)
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(
            f"`labels` must have one entry per image. Received {len(labels)} labels for "
            f"{len(images)} images."
        )
    if not isinstance(validation_size, (int, np.integer)) or not 0 < validation_size < len(images):
        raise ValueError(
            f"`validation_size` must be an int from 1 to {len(images) - 1}. "
            f"Received {validation_size!r}."
        )
    order = np.random.default_rng(seed).permutation(len(images))
    val, train = np.sort(order[:validation_size]), np.sort(order[validation_size:])
    return (images[train], labels[train]), (images[val], labels[val])


def _lookahead_update(model, average, decay):
    """``average = decay * average + (1 - decay) * weights``; the model takes `average`."""
    average = [decay * a + (1.0 - decay) * w for a, w in
               zip(average, model.get_weights(), strict=True)]
    model.set_weights(average)
    return average


def _labels_1d(labels, n):
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"`labels` must be {n} integer class labels, shape (N,) or (N, 1). "
            f"Received dtype {labels.dtype}, shape {labels.shape}."
        )
    return labels


def _check_uint8_images(images, name):
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(
            f"`{name}` must be uint8 images of shape (N, H, W, C), as `load_cifar10` "
            f"returns. Received dtype {images.dtype}, shape {images.shape}."
        )
    return images


@dataclasses.dataclass
class FastResult:
    """What `train_fast` returns.

    Attributes
    ----------
    config : FastConfig
    model : keras.Model
    history : dict of str -> list of float
        Per epoch: ``loss``, ``accuracy`` (on the augmented training batches),
        ``seconds`` and ``learning_rate`` (at the epoch's end).
    train_seconds : float
        Wall time of the training loop (whitening and model building included).
    accuracy, tta_accuracy : float or None
        On the evaluation images, without and with `predict_tta` (None when not
        measured), scored by the network as it trained: in bfloat16 when the
        recipe trained in bfloat16 (`model` itself computes in float32).
    eval_seconds : float
    """

    config: FastConfig
    model: object
    history: dict
    train_seconds: float
    accuracy: float | None = None
    tta_accuracy: float | None = None
    eval_seconds: float = 0.0

    @property
    def best_accuracy(self):
        """The accuracy the recipe reports: with TTA when it was measured."""
        return self.tta_accuracy if self.tta_accuracy is not None else self.accuracy


def resolved_dtype_policy(config):
    """`config`'s dtype policy, with ``"auto"`` decided for this CPU.

    Examples
    --------
    >>> resolved_dtype_policy(FastConfig(dtype_policy="float32"))
    'float32'
    """
    if config.dtype_policy != "auto":
        return config.dtype_policy
    return "mixed_bfloat16" if native_bfloat16() else "float32"


def with_epochs(config, epochs):
    """`config` trained for `epochs` epochs, its small-image epochs scaled in proportion.

    Progressive resizing keeps its share of the run and at least one epoch at
    full size (when `epochs` > 1).

    Examples
    --------
    >>> config = FastConfig(epochs=12, small_size=24, small_epochs=8)
    >>> [with_epochs(config, e).small_epochs for e in (1, 2, 6, 12)]
    [0, 1, 4, 8]
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive int. Received {epochs!r}.")
    small = 0
    if config.small_epochs:  # rounded half up
        small = min(int(config.small_epochs * epochs / config.epochs + 0.5), epochs - 1)
    return dataclasses.replace(config, epochs=epochs, small_epochs=small,
                               small_size=config.small_size if small else 0)


def build_model_for(config, x_train, num_classes=10, training=False, fused_batch_norm=None):
    """The model `config` describes, with its whitening stem fitted to `x_train` (uint8).

    With ``training=True``, the copy `train_fast` trains: it computes in
    `config`'s dtype policy, normalises its batches with the fused kernel of
    `cifar_helpers.speedups.FusedBatchNormalization` and, when the recipe
    resizes progressively, takes images of any size. Otherwise the model takes
    `x_train`'s image size, computes in float32 and uses Keras' own classes, as
    the saved model does. `fused_batch_norm` (True or False) overrides the
    BatchNorm kernel, to time both (``benchmarks/step_levers.py``).
    """
    kernel = None
    if config.whitening:
        sample = scale_pixels(x_train[:5000])
        kernel = patch_whitening_kernel(sample)
    shape = tuple(x_train.shape[1:])
    policy = None
    if training:
        if config.small_epochs:
            shape = (None, None, shape[2])
        if resolved_dtype_policy(config) != "float32":
            policy = resolved_dtype_policy(config)
    return build_fast_model(
        widths=tuple(config.widths), num_classes=num_classes, input_shape=shape,
        batch_norm=config.batch_norm, whitening_kernel=kernel, activation=config.activation,
        dtype_policy=policy,
        speedups=training if fused_batch_norm is None else bool(fused_batch_norm),
    )


def compile_for(model, config, steps_per_epoch):
    """Compile `model` with `config`'s optimizer, schedule and loss."""
    total_steps = config.epochs * steps_per_epoch
    if config.schedule == "triangle":
        rate = TriangularSchedule(config.learning_rate, total_steps, config.warmup_fraction)
    else:
        rate = config.learning_rate
    common = dict(
        learning_rate=rate, momentum=config.momentum, nesterov=True,
        l2=config.weight_decay, bias_lr_scale=config.bias_lr_scale if config.batch_norm else 1.0,
    )
    if config.optimizer == "muon":
        optimizer = MuonSGD(**common, muon_scale=config.muon_learning_rate / config.learning_rate,
                            muon_momentum=config.muon_momentum)
    else:
        optimizer = BiasScaledSGD(**common)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )
    return model


def lookahead_decay(step, total_steps):
    """How much of the running average a lookahead update keeps at `step` (airbench's schedule).

    Every few steps the weights are replaced by ``average = decay * average +
    (1 - decay) * weights``. ``decay = 0.95**5 * (step / total_steps)**3`` is 0
    at the start (plain SGD) and grows to 0.77 at the end, when averaging over
    the last steps smooths out the noise of the final updates.

    Parameters
    ----------
    step, total_steps : int or ndarray
        Steps done so far, and in the whole run (> 0).

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> float(lookahead_decay(0, 100)), round(float(lookahead_decay(50, 100)), 4)
    (0.0, 0.0967)
    >>> round(float(lookahead_decay(100, 100)), 4) == round(0.95**5, 4)
    True
    """
    if not total_steps > 0:
        raise ValueError(f"`total_steps` must be > 0. Received {total_steps!r}.")
    fraction = np.clip(np.asarray(step, dtype=np.float64) / total_steps, 0.0, 1.0)
    decay = 0.95**5 * fraction**3
    return float(decay) if decay.ndim == 0 else decay


def train_fast(config, x_train, y_train, x_eval=None, y_eval=None, seed=0, print_fn=print):
    """Train `config`'s recipe and measure its accuracy and wall time.

    Parameters
    ----------
    config : FastConfig or str
        A recipe, or a name in `CONFIGS`.
    x_train : (N, 32, 32, 3) uint8 ndarray
    y_train : (N,) or (N, 1) int ndarray
    x_eval, y_eval : optional
        Held-out images (a validation split while tuning, the test set for the
        final figure); accuracy is measured on them after training.
    seed : int
        Seeds Keras' initialisation, the shuffling and the augmentation.
    print_fn : callable or None
        Receives one line per epoch; None prints nothing.

    Returns
    -------
    FastResult
    """
    if isinstance(config, str):
        if config not in CONFIGS:
            raise ValueError(f"Unknown recipe {config!r}: expected one of {sorted(CONFIGS)}.")
        config = CONFIGS[config]
    if not isinstance(config, FastConfig):
        raise ValueError(f"`config` must be a FastConfig or a name. Received {config!r}.")
    with no_retracing_warnings():
        return _train_fast(config, x_train, y_train, x_eval, y_eval, seed, print_fn)


def _train_fast(config, x_train, y_train, x_eval, y_eval, seed, print_fn):
    x_train = _check_uint8_images(x_train, "x_train")
    labels = _labels_1d(y_train, len(x_train))
    if config.small_size > min(x_train.shape[1:3]):
        raise ValueError(
            f"`small_size` must be at most the images' side ({min(x_train.shape[1:3])}). "
            f"Received small_size={config.small_size}."
        )
    num_classes = max(int(labels.max()) + 1, 10)
    if x_eval is not None:
        x_eval = _check_uint8_images(x_eval, "x_eval")
        eval_labels = _labels_1d(y_eval, len(x_eval))

    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = build_model_for(config, x_train, num_classes, training=True)
    n = len(x_train)
    steps = -(-n // config.batch_size)
    compile_for(model, config, steps)
    targets = one_hot(labels, num_classes)
    history = {"loss": [], "accuracy": [], "seconds": [], "learning_rate": []}
    total_steps, step = steps * config.epochs, 0
    average = model.get_weights() if config.lookahead_every else None
    for epoch in range(config.epochs):
        epoch_start = time.perf_counter()
        order = rng.permutation(n)
        mask = None
        if config.flip == "alternating":
            mask = alternating_flip_mask(n, epoch, seed=seed)[order]
        if epoch < config.small_epochs:
            images = random_window(x_train[order], config.small_size, seed=rng)
            if config.flip != "none":
                images = random_flip(images, seed=rng, mask=mask)
        else:
            images = augment_batch(x_train[order], pad=config.crop_pad,
                                   flip=config.flip != "none", seed=rng, flip_mask=mask)
        epoch_targets = targets[order]
        loss_sum = correct_sum = 0.0
        for first in range(0, n, config.batch_size):
            batch = scale_pixels(images[first:first + config.batch_size])
            logs = model.train_on_batch(batch, epoch_targets[first:first + config.batch_size],
                                        return_dict=True)
            loss_sum += float(logs["loss"]) * len(batch)
            correct_sum += float(logs["accuracy"]) * len(batch)
            step += 1
            if average is not None and step % config.lookahead_every == 0:
                average = _lookahead_update(model, average, lookahead_decay(step, total_steps))
        if not np.isfinite(loss_sum):
            raise FloatingPointError(
                f"Training diverged in epoch {epoch + 1} of recipe {config.name!r} (the loss "
                f"became {loss_sum / n}); lower `learning_rate` (now {config.learning_rate})."
            )
        seconds = time.perf_counter() - epoch_start
        rate = model.optimizer.learning_rate
        history["loss"].append(loss_sum / n)
        history["accuracy"].append(correct_sum / n)
        history["seconds"].append(seconds)
        history["learning_rate"].append(float(np.asarray(rate)))
        if print_fn is not None:
            print_fn(format_epoch_log(epoch, config.epochs,
                                      {"loss": loss_sum / n, "accuracy": correct_sum / n},
                                      seconds, history["learning_rate"][-1]))
    if average is not None:
        _lookahead_update(model, average, 1.0)  # end on the averaged weights
    trained, model = model, build_model_for(config, x_train, num_classes)
    model.set_weights(trained.get_weights())  # the same weights: Keras' classes, float32,
    compile_for(model, config, steps)          # fixed size, compiled for `evaluate`
    result = FastResult(config, model, history, time.perf_counter() - start)
    if x_eval is not None:
        # Scored as it trained: in bfloat16 when it trained in bfloat16 (faster than
        # float32 on CPUs with native bfloat16). TTA's first pass is the
        # plain prediction.
        eval_start = time.perf_counter()
        if config.tta:
            tta, plain = predict_tta(trained, x_eval, flip=True, shift=1, return_plain=True)
            result.tta_accuracy = float(np.mean(tta.argmax(-1) == eval_labels))
        else:
            plain = predict_probabilities(trained, x_eval, batch_size=1000)
        result.accuracy = float(np.mean(plain.argmax(-1) == eval_labels))
        result.eval_seconds = time.perf_counter() - eval_start
    return result
