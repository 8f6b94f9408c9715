"""The tutorial's CIFAR-10 network in Keras 3, and how to save and load it safely.

`build_seed_model` rebuilds the source tutorial's model layer by layer and
compiles it the tutorial's way. The tutorial was written for Keras 2, whose
``SGD(lr=0.01, decay=0.01 / 25)`` shrank the learning rate after every batch
(not every epoch) as ``lr / (1 + decay * step)``. Keras 3 dropped the
``decay`` argument; the same rule is Keras 3's built-in
``keras.optimizers.schedules.InverseTimeDecay`` with ``decay_steps=1``, a
registered, serializable schedule, so a saved ``.keras`` file loads with plain
``keras.models.load_model`` (no ``custom_objects``).

`load_or_train_seed_model` is what dashboards, later notebooks and tests call:
it loads the model notebook 08 (or ``cifar-course train``) saved, or, when
there is none yet, trains a small stand-in in well under a minute.

Keras is imported inside the functions, so ``import cifar_helpers.models`` is cheap.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .config import model_path

__all__ = [
    "SEED_DECAY",
    "SEED_LEARNING_RATE",
    "SEED_MOMENTUM",
    "SEED_PARAMETERS",
    "build_seed_model",
    "keras2_decay_schedule",
    "keras2_learning_rate",
    "layer_outputs",
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

    # Keras 2's maxnorm(3) is keras.constraints.MaxNorm(3); its default axis=0 is kept.
    # Layers are named, so summaries and feature-map titles read the same in every session.
    model = keras.Sequential(
        [
            keras.Input(shape=shape, name="image"),
            layers.Conv2D(32, (3, 3), padding="same", activation="relu",
                          kernel_constraint=keras.constraints.MaxNorm(3), name="conv1"),
            layers.Dropout(0.2, name="dropout1"),
            layers.Conv2D(32, (3, 3), padding="same", activation="relu",
                          kernel_constraint=keras.constraints.MaxNorm(3), name="conv2"),
            layers.MaxPooling2D(pool_size=(2, 2), name="pool"),
            layers.Flatten(name="flatten"),
            layers.Dense(512, activation="relu", kernel_constraint=keras.constraints.MaxNorm(3),
                         name="dense"),
            layers.Dropout(0.5, name="dropout2"),
            layers.Dense(num_classes, activation="softmax", name="output"),
        ],
        name="seed_cnn",
    )
    if compile:
        optimizer = keras.optimizers.SGD(
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
    import numpy as np

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
