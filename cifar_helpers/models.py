"""The tutorial's CIFAR-10 network in Keras 3, and how to save and load it safely.

`build_seed_model` rebuilds the source tutorial's model layer by layer and
compiles it the tutorial's way. The tutorial was written for Keras 2, whose
``SGD(lr=0.01, decay=0.01 / 25)`` shrank the learning rate after every batch
(not every epoch) as ``lr / (1 + decay * step)``. Keras 3 dropped the
``decay`` argument; the same rule is Keras 3's built-in
``keras.optimizers.schedules.InverseTimeDecay`` with ``decay_steps=1``. The
dense layers, constraints and optimizer are `cifar_helpers.speedups`' faster
drop-in subclasses of Keras' classes, registered with Keras under
``cifar_helpers>``: load a saved ``.keras`` file with `load_model` (or call
``cifar_helpers.speedups.register_keras_objects()`` before
``keras.models.load_model``).

`load_or_train_seed_model` is what dashboards, later notebooks and tests call:
it loads the model notebook 08 (or ``cifar-course train``) saved, or, when
there is none yet, trains a small stand-in in well under a minute.

Keras is imported inside the functions, so ``import cifar_helpers.models`` is cheap.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .config import model_path

__all__ = [
    "SEED_DECAY",
    "SEED_LEARNING_RATE",
    "SEED_MOMENTUM",
    "SEED_PARAMETERS",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "FAST_WIDTHS",
    "build_fast_model",
    "build_seed_model",
    "keras2_decay_schedule",
    "keras2_learning_rate",
    "layer_outputs",
    "patch_whitening_kernel",
    "load_model",
    "load_or_train_seed_model",
    "save_model",
    "train_quick_seed_model",
]

#: The tutorial's optimizer settings: ``SGD(lr=0.01, momentum=0.9, decay=0.01/25)``.
SEED_LEARNING_RATE = 0.01
SEED_MOMENTUM = 0.9
SEED_DECAY = 0.01 / 25
#: Trainable parameters of the tutorial's network on 32x32x3 inputs, 10 classes.
SEED_PARAMETERS = 4_210_090
#: Per-channel mean and standard deviation of CIFAR-10's training pixels, scaled to [0, 1].
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
#: Channels of the three conv groups of `build_fast_model` (airbench94's widths).
FAST_WIDTHS = (64, 256, 256)
#: Images per class and epochs of the stand-in model `load_or_train_seed_model` trains.
QUICK_PER_CLASS = 100
QUICK_EPOCHS = 1


def keras2_learning_rate(step, learning_rate=SEED_LEARNING_RATE, decay=SEED_DECAY):
    """The learning rate Keras 2's ``SGD(lr=..., decay=...)`` used at batch `step`.

    Parameters
    ----------
    step : int or ndarray of int
        How many batches (optimizer updates) have been applied so far, from 0.
    learning_rate, decay : float
        Keras 2's ``lr`` and ``decay`` arguments.

    Returns
    -------
    float or ndarray
        ``learning_rate / (1 + decay * step)``.

    Examples
    --------
    >>> keras2_learning_rate(0)
    0.01
    >>> round(keras2_learning_rate(2500), 6)  # after 2,500 batches the rate has halved
    0.005
    """
    return learning_rate / (1.0 + decay * step)


def keras2_decay_schedule(learning_rate=SEED_LEARNING_RATE, decay=SEED_DECAY):
    """Keras 2's per-batch ``decay`` as a Keras 3 learning-rate schedule.

    Parameters
    ----------
    learning_rate : float
        The initial learning rate (Keras 2's ``lr``), > 0.
    decay : float
        Keras 2's ``decay``, >= 0.

    Returns
    -------
    keras.optimizers.schedules.InverseTimeDecay
        Called with the optimizer's step count it returns
        ``learning_rate / (1 + decay * step)``, exactly `keras2_learning_rate`.

    Raises
    ------
    ValueError
        If `learning_rate` <= 0 or `decay` < 0.

    Examples
    --------
    >>> schedule = keras2_decay_schedule(0.01, decay=0.01 / 25)
    >>> round(float(schedule(2500)), 6)
    0.005
    """
    if not learning_rate > 0:
        raise ValueError(f"`learning_rate` should be > 0. Received learning_rate={learning_rate}.")
    if not decay >= 0:
        raise ValueError(f"`decay` should be >= 0. Received decay={decay}.")
    import keras

    # decay_steps=1 makes InverseTimeDecay's lr / (1 + rate * step / steps) Keras 2's rule.
    return keras.optimizers.schedules.InverseTimeDecay(
        initial_learning_rate=learning_rate, decay_steps=1, decay_rate=decay
    )


def build_seed_model(
    num_classes=10,
    input_shape=(32, 32, 3),
    learning_rate=SEED_LEARNING_RATE,
    momentum=SEED_MOMENTUM,
    decay=SEED_DECAY,
    jit_compile=False,
    compile=True,
    dtype_policy=None,
    speedups=True,
):
    """The source tutorial's CNN, layer for layer, compiled the tutorial's way.

    ``Conv2D(32, 3x3, same, ReLU, MaxNorm(3)) -> Dropout(0.2) ->
    Conv2D(32, 3x3, same, ReLU, MaxNorm(3)) -> MaxPooling2D(2x2) -> Flatten ->
    Dense(512, ReLU, MaxNorm(3)) -> Dropout(0.5) -> Dense(num_classes, softmax)``,
    trained with categorical cross-entropy and SGD (momentum 0.9, learning
    rate 0.01 decayed per batch as Keras 2 did), reporting accuracy.

    Parameters
    ----------
    num_classes : int
        Size of the softmax output.
    input_shape : tuple of 3 ints
        ``(H, W, C)`` of the input images; H and W even.
    learning_rate, momentum, decay : float
        The SGD settings (the tutorial's by default; see `keras2_decay_schedule`).
    jit_compile : bool
        Compile each training step with XLA. Off by default: on a CPU, XLA's
        convolutions are several times slower than TensorFlow's oneDNN kernels
        (see ``benchmarks/seed_training.py``); try it on a GPU.
    compile : bool
        Set to False to get the bare, uncompiled network.
    dtype_policy : str, optional
        A Keras dtype policy for every layer but the softmax output, which stays
        float32. ``"mixed_bfloat16"`` computes in bfloat16 (weights stay float32):
        about 25% faster on CPUs with native bfloat16 instructions (AVX512-BF16,
        AMX), slower on others; its rounding changes the numbers slightly.
        The default is float32, as the tutorial.
    speedups : bool
        True (default) uses `cifar_helpers.speedups`' drop-in classes for the
        dense layers, the max-norm constraints and SGD: the same numbers, about
        20% faster on a CPU. False builds the network from Keras' own classes.

    Returns
    -------
    keras.Sequential
        4,210,090 parameters for the default shapes. Weights are initialised from
        Keras' global seed: call ``keras.utils.set_random_seed(seed)`` first for a
        reproducible model (``cifar_helpers.training.train(seed=...)`` does).

    Raises
    ------
    ValueError
        If `num_classes` < 2 or `input_shape` is not ``(H, W, C)`` with even H, W.

    Examples
    --------
    >>> model = build_seed_model()
    >>> model.count_params()
    4210090
    >>> [layer.__class__.__name__ for layer in model.layers][:4]
    ['Conv2D', 'Dropout', 'Conv2D', 'MaxPooling2D']

    The dense layers, the max-norm constraints and the optimizer are the Keras
    classes' drop-in, faster-on-CPU versions from `cifar_helpers.speedups`:

    >>> model.layers[5].__class__.__name__, model.optimizer.__class__.__name__
    ('FastDense', 'FusedSGD')
    """
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(
            f"`num_classes` should be an int >= 2. Received num_classes={num_classes!r}."
        )
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if (
        shape is None
        or len(shape) != 3
        or not all(isinstance(n, int) and n > 0 for n in shape)
        or shape[0] % 2
        or shape[1] % 2
    ):
        raise ValueError(
            "`input_shape` should be (H, W, C) with positive ints and even H, W, "
            f"e.g. (32, 32, 3). Received input_shape={input_shape!r}."
        )
    import keras
    from keras import layers

    if speedups:
        from .speedups import FastDense as Dense
        from .speedups import FastMaxNorm as MaxNorm
        from .speedups import FusedSGD as SGD
    else:
        Dense, MaxNorm, SGD = layers.Dense, keras.constraints.MaxNorm, keras.optimizers.SGD

    # Keras 2's maxnorm(3) is keras.constraints.MaxNorm(3); its default axis=0 is kept.
    # Layers are named, so summaries and feature-map titles read the same in every session.
    policy = {"dtype": dtype_policy} if dtype_policy is not None else {}
    model = keras.Sequential(
        [
            keras.Input(shape=shape, name="image"),
            layers.Conv2D(32, (3, 3), padding="same", activation="relu",
                          kernel_constraint=MaxNorm(3), name="conv1", **policy),
            layers.Dropout(0.2, name="dropout1", **policy),
            layers.Conv2D(32, (3, 3), padding="same", activation="relu",
                          kernel_constraint=MaxNorm(3), name="conv2", **policy),
            layers.MaxPooling2D(pool_size=(2, 2), name="pool", **policy),
            layers.Flatten(name="flatten", **policy),
            Dense(512, activation="relu", kernel_constraint=MaxNorm(3), name="dense", **policy),
            layers.Dropout(0.5, name="dropout2", **policy),
            Dense(num_classes, activation="softmax", name="output", dtype="float32"),
        ],
        name="seed_cnn",
    )
    if compile:
        optimizer = SGD(
            learning_rate=keras2_decay_schedule(learning_rate, decay),
            momentum=momentum,
            nesterov=False,
        )
        model.compile(
            loss="categorical_crossentropy",
            optimizer=optimizer,
            metrics=["accuracy"],
            jit_compile=jit_compile,
        )
    return model


def patch_whitening_kernel(images, patch_size=2, eps=5e-4):
    """Conv weights that whiten image patches: the fast models' first layer.

    The covariance of all ``patch_size x patch_size x C`` patches of the
    (normalised) images is diagonalised; each eigenvector ``v`` divided by
    ``sqrt(eigenvalue + eps)`` becomes a filter, and so does its negative. A
    convolution with these filters turns patches into decorrelated features of
    unit variance, which lets the next layers learn faster (the airbench
    recipe's first layer; it stays frozen during training).

    Parameters
    ----------
    images : (N, H, W, C) float ndarray
        Training images scaled to [0, 1] (a few thousand are enough).
    patch_size : int
    eps : float
        Added to the eigenvalues, so near-empty directions are not blown up.

    Returns
    -------
    (patch_size, patch_size, C, 2 * patch_size**2 * C) float32 ndarray
        A Conv2D kernel (Keras' layout); filters ``k`` and ``k + patch_size**2 * C``
        are each other's negatives.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> kernel = patch_whitening_kernel(rng.random((64, 8, 8, 3)))
    >>> kernel.shape
    (2, 2, 3, 24)
    >>> bool(np.allclose(kernel[..., :12], -kernel[..., 12:]))
    True
    """
    images = np.asarray(images)
    if images.ndim != 4 or not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            "`images` should be float images of shape (N, H, W, C), scaled to [0, 1]. "
            f"Received dtype {images.dtype}, shape {images.shape}."
        )
    if not isinstance(patch_size, int) or not 1 <= patch_size <= min(images.shape[1:3]):
        raise ValueError(
            f"`patch_size` should be an int from 1 to {min(images.shape[1:3])}. "
            f"Received patch_size={patch_size!r}."
        )
    channels = images.shape[-1]
    mean = np.asarray(CIFAR10_MEAN if channels == 3 else 0.5, dtype=np.float64)
    std = np.asarray(CIFAR10_STD if channels == 3 else 0.25, dtype=np.float64)
    normalised = (images.astype(np.float64) - mean) / std
    windows = np.lib.stride_tricks.sliding_window_view(normalised, (patch_size, patch_size),
                                                       axis=(1, 2))
    # windows: (N, H', W', C, p, p) -> patches as (p, p, C) vectors, Keras' kernel order.
    patches = windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, patch_size * patch_size * channels)
    if len(patches) < patches.shape[1]:
        raise ValueError(
            f"`images` should give at least {patches.shape[1]} patches to estimate their "
            f"covariance. Received {len(patches)}."
        )
    covariance = np.cov(patches, rowvar=False)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    filters = eigenvectors / np.sqrt(eigenvalues + eps)  # one filter per column
    filters = np.concatenate([filters, -filters], axis=1)
    return filters.reshape(patch_size, patch_size, channels, -1).astype(np.float32)


def build_fast_model(
    widths=FAST_WIDTHS,
    num_classes=10,
    input_shape=(32, 32, 3),
    batch_norm=True,
    whitening_kernel=None,
    stem_width=24,
    activation="gelu",
    logit_scale=1 / 9,
    batch_norm_momentum=0.6,
    identity_init=True,
    name="fast_cnn",
):
    """A small, fast VGG-style CIFAR-10 network in the spirit of airbench94.

    ``Normalization (CIFAR-10 mean/std) -> Conv2D(stem_width, 2x2, valid) -> act``,
    then for each width ``w`` a conv group
    ``Conv2D(w, 3x3, same) -> MaxPooling2D(2) -> BatchNorm -> act -> Conv2D(w, 3x3, same)
    -> BatchNorm -> act``, then ``GlobalMaxPooling2D -> Dense(num_classes, no bias)
    -> x logit_scale -> softmax``. With three groups a 32x32 input shrinks to
    31, 15, 7 and 3 pixels on a side.

    Parameters
    ----------
    widths : sequence of int
        Channels of each conv group; ``(64, 256, 256)`` (fast-94) has 1.97 M
        parameters, ``(32, 128, 128)`` about 0.5 M.
    num_classes : int
    input_shape : tuple of 3 ints
        ``(H, W, C)``; inputs are floats in [0, 1], as for `build_seed_model`
        (so `cifar_helpers.predict.predict_image` works with both).
    batch_norm : bool
        False drops the BatchNorm layers (and gives the convolutions biases),
        to show what BatchNorm buys.
    whitening_kernel : ndarray, optional
        From `patch_whitening_kernel`: the stem's frozen weights (then its shape
        fixes `stem_width`). None trains an ordinary stem.
    stem_width : int
        Filters of the 2x2 stem when no `whitening_kernel` is given.
    activation : str
        Any Keras activation name ("gelu" as in airbench, "relu"...).
    logit_scale : float
        The logits are multiplied by this before the softmax (airbench: 1/9).
    batch_norm_momentum : float
        Keras' momentum for the running statistics: 0.6 keeps 60% of the old value
        (PyTorch's momentum=0.4, airbench's setting).
    identity_init : bool
        Start the first ``min(in, out)`` filters of every 3x3 convolution as
        identity filters (PyTorch's ``dirac_``, as airbench does), so the fresh
        network passes its input through. The other weights are drawn as
        PyTorch draws them, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``: with BatchNorm
        the scale of the weights sets the effective learning rate, and the
        recipes' learning rates were tuned with that scale.

    Returns
    -------
    keras.Model
        Uncompiled; `cifar_helpers.recipes.train_fast` compiles and trains it.

    Examples
    --------
    >>> model = build_fast_model(widths=(32, 128, 128))
    >>> model.count_params()
    498656
    >>> model.output_shape
    (None, 10)
    """
    widths = tuple(widths) if isinstance(widths, (tuple, list)) else None
    if not widths or not all(isinstance(w, int) and w > 0 for w in widths):
        raise ValueError(
            "`widths` should be a non-empty sequence of positive ints, e.g. (64, 256, 256). "
            f"Received widths={widths!r}."
        )
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(
            f"`num_classes` should be an int >= 2. Received num_classes={num_classes!r}."
        )
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else ()
    if len(shape) != 3 or not all(isinstance(n, int) and n > 0 for n in shape):
        raise ValueError(
            f"`input_shape` should be (H, W, C) with positive ints. Received {input_shape!r}."
        )
    smallest = min(shape[:2]) - 1
    for _ in widths:
        smallest //= 2
    if smallest < 1:
        raise ValueError(
            f"`input_shape` {shape} is too small for {len(widths)} conv groups: each one "
            "halves the image; use bigger images or fewer groups."
        )
    if whitening_kernel is not None:
        whitening_kernel = np.asarray(whitening_kernel, dtype=np.float32)
        if whitening_kernel.ndim != 4 or whitening_kernel.shape[2] != shape[2]:
            raise ValueError(
                f"`whitening_kernel` should have shape (k, k, {shape[2]}, filters), as "
                f"`patch_whitening_kernel` returns. Received shape {whitening_kernel.shape}."
            )
        stem_width = whitening_kernel.shape[-1]
    import keras
    from keras import layers

    channels = shape[2]
    mean = list(CIFAR10_MEAN) if channels == 3 else [0.5] * channels
    variance = [s * s for s in CIFAR10_STD] if channels == 3 else [0.0625] * channels
    inputs = keras.Input(shape=shape, name="image")
    x = layers.Normalization(mean=mean, variance=variance, name="normalize")(inputs)
    kernel_size = whitening_kernel.shape[0] if whitening_kernel is not None else 2
    stem = layers.Conv2D(stem_width, kernel_size, padding="valid", use_bias=False, name="stem")
    x = stem(x)
    if whitening_kernel is not None:
        stem.set_weights([whitening_kernel])
        stem.trainable = False
    x = layers.Activation(activation, name="stem_act")(x)
    # PyTorch's default initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    def torch_init():
        return keras.initializers.VarianceScaling(1 / 3, mode="fan_in", distribution="uniform")

    convs = []
    for group, width in enumerate(widths, start=1):
        for half in (1, 2):
            conv = layers.Conv2D(width, 3, padding="same", use_bias=not batch_norm,
                                 kernel_initializer=torch_init(), name=f"group{group}_conv{half}")
            x = conv(x)
            convs.append(conv)
            if half == 1:
                x = layers.MaxPooling2D(2, name=f"group{group}_pool")(x)
            if batch_norm:
                x = layers.BatchNormalization(momentum=batch_norm_momentum, epsilon=1e-5,
                                              scale=False, name=f"group{group}_bn{half}")(x)
            x = layers.Activation(activation, name=f"group{group}_act{half}")(x)
    x = layers.GlobalMaxPooling2D(name="global_max")(x)
    x = layers.Dense(num_classes, use_bias=False, kernel_initializer=torch_init(),
                     name="logits")(x)
    x = layers.Rescaling(logit_scale, name="logit_scale")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="output")(x)
    model = keras.Model(inputs, outputs, name=name)
    if identity_init:
        for conv in convs:
            kernel = np.array(conv.kernel)
            size, _, channels_in, channels_out = kernel.shape
            n = min(channels_in, channels_out)
            kernel[..., :n] = 0.0
            kernel[size // 2, size // 2, np.arange(n), np.arange(n)] = 1.0
            conv.kernel.assign(kernel)
    return model


def save_model(model, path):
    """Save `model` to a ``.keras`` file atomically.

    The model is written to a temporary file in the same folder and then
    renamed over `path` (``os.replace``), so an interrupted save never leaves a
    half-written model behind: `path` holds either the old model or the new one.

    Parameters
    ----------
    model : keras.Model
    path : str or path-like
        Destination ending in ``.keras`` (Keras 3's format; not the legacy ``.h5``).
        Missing parent folders are created.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If `path` does not end in ``.keras``.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(
            "`path` should end in '.keras' (Keras 3's model format). "
            f"Received a path ending in {path.suffix or 'nothing'!r}: {path.name!r}."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".keras", dir=path.parent)
    os.close(handle)
    # mkstemp makes the file private (0o600); give it the permissions a plain save would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        # Save the optimizer's full state even before training, so loading matches it.
        optimizer.build(model.trainable_variables)
    try:
        model.save(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def load_model(path):
    """Load a ``.keras`` model, with a clear error for a missing or wrong file.

    The course's own Keras classes (`cifar_helpers.speedups`, the fast recipes'
    optimizer and schedule) are registered first, so models saved by any
    notebook or by ``cifar-course train`` load in a fresh Python session.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    keras.Model

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If `path` is not a readable Keras 3 ``.keras`` file.
    """
    import zipfile

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at '{path}'. Train one first (notebook 08 or "
                                "`cifar-course train --out ...`).")
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise ValueError(
            f"'{path.name}' is not a Keras 3 model file: expected a '.keras' archive "
            "(saved with model.save('name.keras'))."
        )
    import keras

    from . import recipes, speedups

    recipes.register_keras_objects()  # the fast recipes' optimizer and schedule
    speedups.register_keras_objects()  # the seed model's faster Keras classes
    try:
        return keras.models.load_model(path)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ValueError(
            f"Could not load '{path.name}' as a Keras model ({type(exc).__name__}: {first_line})."
        ) from None


def train_quick_seed_model(path=None, seed=0, verbose=True):
    """Train the seed model briefly (100 images per class, 1 epoch) and save it.

    This is the stand-in `load_or_train_seed_model` uses when no trained model
    exists yet: about 10% accuracy above chance, in well under a minute.

    Parameters
    ----------
    path : str or path-like, optional
        Where to save it; default ``model_path("seed_cnn", quick=True)``.
    seed : int
        Seeds the subset, the weights and the shuffling.
    verbose : bool
        Print one line per epoch.

    Returns
    -------
    keras.Model
    """
    from .data import load_cifar10, one_hot, scale_pixels, subset_per_class
    from .training import train

    (x_train, y_train), _ = load_cifar10()
    x_small, y_small = subset_per_class(x_train, y_train, QUICK_PER_CLASS, seed=seed)
    model = build_seed_model()
    train(
        model,
        scale_pixels(x_small),
        one_hot(y_small),
        epochs=QUICK_EPOCHS,
        batch_size=32,
        seed=seed,
        verbose=verbose,
    )
    save_model(model, path if path is not None else model_path("seed_cnn", quick=True))
    return model


def load_or_train_seed_model(path=None, verbose=True):
    """Load the trained seed model, or train and save a quick stand-in.

    Parameters
    ----------
    path : str or path-like, optional
        The model to load; default ``model_path("seed_cnn")``, i.e.
        ``models/seed_cnn.keras`` (``models/seed_cnn_quick.keras`` in quick mode).
    verbose : bool
        Print one line when a stand-in is trained instead.

    Returns
    -------
    keras.Model
        The saved model if `path` exists; otherwise a stand-in trained on 100
        images per class for one epoch (seed 0), saved to the quick path
        ``models/seed_cnn_quick.keras`` so the next call just loads it.
    """
    path = Path(path) if path is not None else model_path("seed_cnn")
    if path.is_file():
        return load_model(path)
    quick_path = model_path("seed_cnn", quick=True)
    if quick_path != path and quick_path.is_file():
        model = load_model(quick_path)
    else:
        model = train_quick_seed_model(quick_path, seed=0, verbose=False)
    if verbose:
        print(
            f"No trained model at models/{path.name}: using a quick stand-in "
            f"(models/{quick_path.name}, {QUICK_PER_CLASS} images per class, "
            f"{QUICK_EPOCHS} epoch). Run notebook 08 or `cifar-course train` for the real model."
        )
    return model


def layer_outputs(model, image, layer_names=None):
    """What each layer of `model` outputs for one image: its feature maps.

    Parameters
    ----------
    model : keras.Model
        A functional or Sequential model built with a known input shape.
    image : (H, W, 3) uint8 ndarray
        One image with the model's input size (pixels in 0..255; scaled here).
    layer_names : sequence of str, optional
        The layers to report; default every ``Conv2D`` and ``MaxPooling2D``
        layer, in order.

    Returns
    -------
    dict of str -> ndarray
        Layer name -> that layer's output for `image` without the batch axis,
        e.g. ``(32, 32, 32)`` for the seed model's first convolution.

    Raises
    ------
    ValueError
        If `image` is not a uint8 ``(H, W, 3)`` array of the model's input size,
        or a name in `layer_names` is not a layer of `model`.
    """
    image = np.asarray(image)
    expected = tuple(model.input_shape[1:])
    if image.dtype != np.uint8 or image.shape != expected:
        raise ValueError(
            f"`image` should be a uint8 array of shape {expected} (the model's input). "
            f"Received dtype {image.dtype}, shape {image.shape}."
        )
    names = [layer.name for layer in model.layers]
    if layer_names is None:
        layer_names = [
            layer.name
            for layer in model.layers
            if type(layer).__name__ in ("Conv2D", "MaxPooling2D") and len(layer.output.shape) == 4
        ]
    unknown = [name for name in layer_names if name not in names]
    if unknown:
        raise ValueError(f"Unknown layer names {unknown}. The model's layers are {names}.")
    import keras

    probe = keras.Model(
        inputs=model.inputs[0], outputs=[model.get_layer(name).output for name in layer_names]
    )
    outputs = probe(image[np.newaxis].astype("float32") / 255.0, training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return {name: np.asarray(value)[0] for name, value in zip(layer_names, outputs, strict=True)}
