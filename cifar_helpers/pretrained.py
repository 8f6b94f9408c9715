"""The seed model for dashboards and later lessons: the trained one, or a quick stand-in.

`load_or_train_seed_model` loads the model notebook 09 (or ``cifar-course
train``) saved. When there is none yet, it trains a small stand-in
(`train_quick_seed_model`: 100 images per class, one epoch, about 30 s on a
laptop CPU) so that a dashboard always opens. The stand-in guesses little
better than chance, and says so: it is named `STAND_IN_NAME` (the name is
saved in its file, so it survives loading), `is_stand_in` recognises it, and
the model widgets label its predictions with `STAND_IN_NOTE`.
"""

from __future__ import annotations

from pathlib import Path

from .config import model_path
from .data import load_cifar10, one_hot, scale_pixels, subset_per_class
from .models import build_seed_model
from .saving import load_model, save_model
from .training import train

__all__ = [
    "QUICK_EPOCHS",
    "QUICK_PER_CLASS",
    "STAND_IN_NAME",
    "STAND_IN_NOTE",
    "is_stand_in",
    "load_or_train_seed_model",
    "train_quick_seed_model",
]

#: Images per class and epochs of the stand-in model `load_or_train_seed_model` trains.
QUICK_PER_CLASS = 100
QUICK_EPOCHS = 1

#: The name of the stand-in model, saved in its ``.keras`` file.
STAND_IN_NAME = "seed_cnn_stand_in"

#: What the widgets say about every prediction a stand-in model makes.
STAND_IN_NOTE = (
    f"Stand-in model, {QUICK_EPOCHS} epoch on {10 * QUICK_PER_CLASS:,} images: guesses are "
    "near chance. Run notebook 09 for the real model."
)


def is_stand_in(model):
    """True if `model` is the quick stand-in (`train_quick_seed_model`), even after loading.

    Examples
    --------
    >>> class Model:
    ...     name = STAND_IN_NAME
    >>> is_stand_in(Model()), is_stand_in(object())
    (True, False)
    """
    return getattr(model, "name", None) == STAND_IN_NAME


def train_quick_seed_model(path=None, seed=0, verbose=True):
    """Train the seed model briefly (100 images per class, 1 epoch) and save it.

    This is the stand-in `load_or_train_seed_model` uses when no trained model
    exists yet: about 10% accuracy above chance, in well under a minute. It is
    named `STAND_IN_NAME`, so that `is_stand_in` knows it after loading too.

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
    (x_train, y_train), _ = load_cifar10()
    x_small, y_small = subset_per_class(x_train, y_train, QUICK_PER_CLASS, seed=seed)
    model = build_seed_model()
    model.name = STAND_IN_NAME
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
        ``is_stand_in(model)`` tells which.
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
            f"{QUICK_EPOCHS} epoch). Run notebook 09 or `cifar-course train` for the real model."
        )
    return model
