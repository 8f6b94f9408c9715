"""The course's CIFAR-10 networks in Keras 3: architectures only.

`build_seed_model` rebuilds the source tutorial's model layer by layer and
compiles it the tutorial's way. The tutorial was written for Keras 2, whose
``SGD(lr=0.01, decay=0.01 / 25)`` shrank the learning rate after every batch
(not every epoch); `cifar_helpers.optimizers.keras2_decay_schedule` is the same
rule in Keras 3. The network is built from Keras' own classes, so a saved
model loads with plain ``keras.saving.load_model``; ``speedups=True`` swaps in
`cifar_helpers.speedups`' faster drop-in subclasses (for the benchmarks).

`build_fast_model` is the fast recipes' network (`cifar_helpers.recipes`), with
its patch-whitening first layer (`patch_whitening_kernel`).

Saving and loading live in `cifar_helpers.saving`; the quick stand-in model in
`cifar_helpers.pretrained`. This module imports Keras.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from .optimizers import SEED_DECAY, SEED_LEARNING_RATE, SEED_MOMENTUM, keras2_decay_schedule

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "FAST_MODEL_NAME",
    "FAST_WIDTHS",
    "SEED_PARAMETERS",
    "build_fast_model",
    "build_seed_model",
    "patch_whitening_kernel",
]

#: Trainable parameters of the tutorial's network on 32x32x3 inputs, 10 classes.
SEED_PARAMETERS = 4_210_090
#: Per-channel mean and standard deviation of CIFAR-10's training pixels, scaled to [0, 1].
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
#: Channels of the three conv groups of `build_fast_model` (airbench94's widths).
FAST_WIDTHS = (64, 256, 256)
#: The name `build_fast_model` gives its model (kept in a saved file): the ``cifar-course``
#: command uses it to apply the fast recipes' test-time augmentation.
FAST_MODEL_NAME = "fast_cnn"


def build_seed_model(
    num_classes=10,
    input_shape=(32, 32, 3),
    learning_rate=SEED_LEARNING_RATE,
    momentum=SEED_MOMENTUM,
    decay=SEED_DECAY,
    jit_compile=False,
    compile=True,
    dtype_policy=None,
    speedups=False,
    dropout=True,
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
        False (default) builds the network from Keras' own classes, as the
        lessons teach it. True uses `cifar_helpers.speedups`' drop-in classes
        for the dense layers, the max-norm constraints and SGD: the same
        numbers, with about 18% less CPU time per step on the course machines
        (``benchmarks/README.md``); a model saved with them needs
        ``import cifar_helpers.speedups`` (or `cifar_helpers.saving.load_model`)
        to load.
    dropout : bool
        False sets both dropout rates to 0 (the layers stay, doing nothing):
        the same network without its regulariser, to measure what dropout
        does (``benchmarks/dropout_gap.py``).

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

    Keras' own classes throughout, unless the speed-ups are asked for:

    >>> model.layers[5].__class__.__name__, model.optimizer.__class__.__name__
    ('Dense', 'SGD')
    >>> build_seed_model(speedups=True).optimizer.__class__.__name__
    'FusedSGD'
    """
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(
            f"`num_classes` must be an int >= 2. Received num_classes={num_classes!r}."
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
            "`input_shape` must be (H, W, C) with positive ints and even H, W, "
            f"e.g. (32, 32, 3). Received input_shape={input_shape!r}."
        )
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
            layers.Dropout(0.2 if dropout else 0.0, name="dropout1", **policy),
            layers.Conv2D(32, (3, 3), padding="same", activation="relu",
                          kernel_constraint=MaxNorm(3), name="conv2", **policy),
            layers.MaxPooling2D(pool_size=(2, 2), name="pool", **policy),
            layers.Flatten(name="flatten", **policy),
            Dense(512, activation="relu", kernel_constraint=MaxNorm(3), name="dense", **policy),
            layers.Dropout(0.5 if dropout else 0.0, name="dropout2", **policy),
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
            "`images` must be float images of shape (N, H, W, C), scaled to [0, 1]. "
            f"Received dtype {images.dtype}, shape {images.shape}."
        )
    if not isinstance(patch_size, int) or not 1 <= patch_size <= min(images.shape[1:3]):
        raise ValueError(
            f"`patch_size` must be an int from 1 to {min(images.shape[1:3])}. "
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
            f"`images` must give at least {patches.shape[1]} patches to estimate their "
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
    dtype_policy=None,
    speedups=False,
    name=FAST_MODEL_NAME,
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
        (so `cifar_helpers.predict.predict_image` works with both). ``H`` and
        ``W`` may be None: the network then takes any image size (the recipes
        train such a copy on smaller crops first, see `cifar_helpers.recipes`).
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
    dtype_policy : str, optional
        A Keras dtype policy for the layers after the stem, e.g.
        ``"mixed_bfloat16"`` (faster on CPUs with native bfloat16 instructions);
        the input normalisation, the stem and the softmax stay float32.
    speedups : bool
        Build the BatchNorm layers as `cifar_helpers.speedups.FusedBatchNormalization`:
        the same numbers as Keras' layer, computed while training by one fused
        TensorFlow kernel (the recipes train such a copy; the model they return
        and save uses Keras' own class).

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
            "`widths` must be a non-empty sequence of positive ints, e.g. (64, 256, 256). "
            f"Received widths={widths!r}."
        )
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(
            f"`num_classes` must be an int >= 2. Received num_classes={num_classes!r}."
        )
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else ()
    if len(shape) != 3 or not all(n is None or isinstance(n, int) and n > 0 for n in shape[:2]) \
            or not (isinstance(shape[2], int) and shape[2] > 0):
        raise ValueError(
            "`input_shape` must be (H, W, C) with positive ints (H and W may be None). "
            f"Received {input_shape!r}."
        )
    sides = [n for n in shape[:2] if n is not None]
    smallest = min(sides) - 1 if sides else 1 << len(widths)
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
                f"`whitening_kernel` must have shape (k, k, {shape[2]}, filters), as "
                f"`patch_whitening_kernel` returns. Received shape {whitening_kernel.shape}."
            )
        stem_width = whitening_kernel.shape[-1]
    channels = shape[2]
    mean = list(CIFAR10_MEAN) if channels == 3 else [0.5] * channels
    variance = [s * s for s in CIFAR10_STD] if channels == 3 else [0.0625] * channels
    policy = {"dtype": dtype_policy} if dtype_policy is not None else {}
    BatchNormalization = layers.BatchNormalization
    if speedups:
        from .speedups import FusedBatchNormalization as BatchNormalization
    inputs = keras.Input(shape=shape, name="image")
    x = layers.Normalization(mean=mean, variance=variance, name="normalize")(inputs)
    kernel_size = whitening_kernel.shape[0] if whitening_kernel is not None else 2
    stem = layers.Conv2D(stem_width, kernel_size, padding="valid", use_bias=False, name="stem")
    x = stem(x)
    if whitening_kernel is not None:
        stem.set_weights([whitening_kernel])
        stem.trainable = False
    x = layers.Activation(activation, name="stem_act", **policy)(x)
    # PyTorch's default initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    def torch_init():
        return keras.initializers.VarianceScaling(1 / 3, mode="fan_in", distribution="uniform")

    convs = []
    for group, width in enumerate(widths, start=1):
        for half in (1, 2):
            conv = layers.Conv2D(width, 3, padding="same", use_bias=not batch_norm,
                                 kernel_initializer=torch_init(), name=f"group{group}_conv{half}",
                                 **policy)
            x = conv(x)
            convs.append(conv)
            if half == 1:
                x = layers.MaxPooling2D(2, name=f"group{group}_pool", **policy)(x)
            if batch_norm:
                x = BatchNormalization(momentum=batch_norm_momentum, epsilon=1e-5,
                                       scale=False, name=f"group{group}_bn{half}",
                                       **policy)(x)
            x = layers.Activation(activation, name=f"group{group}_act{half}", **policy)(x)
    x = layers.GlobalMaxPooling2D(name="global_max", **policy)(x)
    x = layers.Dense(num_classes, use_bias=False, kernel_initializer=torch_init(),
                     name="logits", **policy)(x)
    x = layers.Rescaling(logit_scale, name="logit_scale", **policy)(x)
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
