"""The filter explorer, and the images the widgets offer (course photos, CIFAR-10 samples)."""

from __future__ import annotations

import html
import time
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from ..drawing import png_bytes, to_uint8
from ._frame import (
    _assemble,
    _check_finite,
    _fixed,
    _fmt,
    _guarded,
    _kernel_text,
    _message,
    _observe,
    _parse_number,
    _readout,
    _row,
    _Syncing,
    _title,
)

__all__ = ["CIFAR_CREDIT", "MAX_PHOTO_SIDE", "cifar_samples", "filter_explorer"]

#: Longest side of a photo in the filter explorer (bigger photos are shrunk).
MAX_PHOTO_SIDE = 512

#: The credit line shown with a CIFAR-10 image.
CIFAR_CREDIT = ("CIFAR-10 test set (Alex Krizhevsky, Learning Multiple Layers of Features from "
                "Tiny Images, 2009)")

_CIFAR_CACHE = {}


def cifar_samples():
    """The first CIFAR-10 test image of each class, if a local copy of CIFAR-10 is found.

    Returns
    -------
    dict
        ``{"CIFAR-10 cat (test #0)": (32, 32, 3) uint8 ndarray, ...}`` in class
        order, or an empty dict when no local copy exists (nothing is downloaded).
    """
    if "samples" not in _CIFAR_CACHE:
        from ..data import CLASS_NAMES, TEST_BATCH, find_cifar10_dir, load_batch

        samples = {}
        try:
            folder = find_cifar10_dir()
            if folder is not None and (Path(folder) / TEST_BATCH).is_file():
                images, labels = load_batch(Path(folder) / TEST_BATCH)
                for label, name in enumerate(CLASS_NAMES):
                    index = int(np.flatnonzero(labels == label)[0])
                    samples[f"CIFAR-10 {name} (test #{index})"] = images[index]
        except (OSError, ValueError):  # no copy, or a damaged one: offer the photos only
            samples = {}
        _CIFAR_CACHE["samples"] = samples
    return dict(_CIFAR_CACHE["samples"])


def _image_sources(images, loader):
    """Name -> zero-argument loader for the images a widget offers.

    Default: the course photos (read with `loader`) and, when CIFAR-10 is on
    this machine, one CIFAR-10 test image of each class.
    """
    if images is None:
        from ..photos import PHOTOS, photo_path

        sources = {name: (lambda name=name: loader(photo_path(name))) for name in PHOTOS}
        for name, array in cifar_samples().items():
            sources[name] = lambda array=array: array
        return sources
    if isinstance(images, dict):
        items = list(images.items())
    elif isinstance(images, np.ndarray) and images.ndim in (2, 3) and images.dtype != object:
        items = [("image 1", images)]
    else:
        items = [(f"image {i}", item) for i, item in enumerate(images, start=1)]
    if not items:
        raise ValueError("`images` must hold at least one image. Received an empty collection.")
    sources = {}
    for name, item in items:
        if isinstance(item, (str, Path)):
            sources[str(name)] = lambda item=item: loader(item)
        else:
            array = np.asarray(item)
            if array.ndim not in (2, 3):
                raise ValueError(f"Each image must have shape (H, W) or (H, W, 3). Received "
                                 f"image {name!r} of shape {array.shape}.")
            sources[str(name)] = lambda array=array: array
    return sources


def _credit_for(name):
    """The (HTML-escaped) credit line of an image offered by `_image_sources`, or ""."""
    from ..photos import PHOTOS, credit

    if name in PHOTOS:
        return html.escape(credit(name))
    if name.startswith("CIFAR-10 "):
        return html.escape(f"{name}: {CIFAR_CREDIT}")
    return ""


def _load_for_display(path):
    """A photo at its own aspect ratio, at most `MAX_PHOTO_SIDE` pixels a side."""
    from ..photos import load_image

    return load_image(path, size=None, max_side=MAX_PHOTO_SIDE)


def filter_explorer(images=None):
    """Apply a named or hand-typed 3×3 kernel to a photo; input and output side by side.

    Parameters
    ----------
    images : dict or sequence, optional
        ``{name: array or path}`` or a list of arrays/paths. Default: the course
        photos in ``images/`` (shrunk to at most 512 pixels a side with
        ``cifar_helpers.photos.load_image``) and, if CIFAR-10 is on this
        machine, one test image per class (`cifar_samples`).

    Returns
    -------
    ipywidgets.VBox
        ``box.result["output"]`` is ``apply_filter(image, kernel)``.

    Raises
    ------
    ValueError
        If `images` is empty or holds an array that is not (H, W) or (H, W, 3).
    """
    from ..filters import FILTER_DESCRIPTIONS, FILTERS, apply_filter

    sources = _image_sources(images, _load_for_display)
    cache = {}
    names = list(FILTERS)
    photo = widgets.Dropdown(options=list(sources), description="photo")
    choice = widgets.Dropdown(options=[*names, "custom"], value=names[0], description="filter")
    cells = [widgets.Text(layout=widgets.Layout(width="4.4em"), continuous_update=False)
             for _ in range(9)]
    grid = widgets.GridBox(cells, layout=widgets.Layout(
        grid_template_columns="repeat(3, 4.6em)", grid_gap="2px"))
    before = widgets.Image(format="png", layout=widgets.Layout(max_width="26em"))
    after = widgets.Image(format="png", layout=widgets.Layout(max_width="26em"))
    display = widgets.Dropdown(options=["auto", "clip", "abs", "minmax"], value="auto",
                               description="display")
    description = widgets.HTML()
    credit_line = widgets.HTML()
    timing = widgets.HTML()
    readout, message = _readout(), _message()
    result = {}
    syncing = _Syncing()

    def set_cells(kernel):
        with syncing:
            for cell, value in zip(cells, np.asarray(kernel, dtype=float).ravel(), strict=True):
                cell.value = _fmt(value)

    def typed_kernel():
        values = [_parse_number(cell.value, f"(row {k // 3 + 1}, column {k % 3 + 1})")
                  for k, cell in enumerate(cells)]
        return np.array(values, dtype=float).reshape(3, 3)

    def current_image():
        name = photo.value
        if name not in cache:
            cache[name] = sources[name]()
        return cache[name]

    def redraw():
        start = time.perf_counter()
        image = current_image()
        kernel = typed_kernel() if choice.value == "custom" else FILTERS[choice.value]
        # the largest sum of products a window can reach (apply_filter clips what it shows)
        _check_finite(np.abs(kernel).sum() * float(np.max(np.abs(image))), "filtered image")
        output = apply_filter(image, kernel, normalize=display.value)
        scale = max(1, 256 // max(np.shape(image)[:2]))  # CIFAR-10's 32×32 shown 8× larger
        if photo.value != result.get("photo"):
            before.value = png_bytes(to_uint8(image), scale)
            credit_line.value = f"<small>{_credit_for(photo.value)}</small>"
        after.value = png_bytes(to_uint8(output), scale)
        elapsed = (time.perf_counter() - start) * 1000
        result.update(photo=photo.value, image=image, kernel=kernel, output=output)
        shape = "×".join(str(n) for n in np.shape(image))
        readout.value = (f"{choice.value}: kernel {_kernel_text(kernel)} on a {shape} image, "
                         f"display {display.value!r}")
        description.value = f"<i>{html.escape(FILTER_DESCRIPTIONS.get(choice.value, ''))}</i>"
        timing.value = f"<small>redraw {elapsed:.0f} ms</small>"

    update = _guarded(message, redraw)

    def on_choice(change):
        if change["new"] != "custom":
            set_cells(FILTERS[change["new"]])
            update()

    def on_cell(_change):
        if syncing.on:
            return
        try:
            typed = typed_kernel()
        except ValueError:
            typed = None
        if choice.value != "custom" and (
                typed is None or not np.array_equal(typed, np.asarray(FILTERS[choice.value]))):
            with syncing:
                choice.value = "custom"
        update()

    choice.observe(on_choice, names="value")
    for cell in cells:
        cell.observe(on_cell, names="value")
    _observe(update, photo, display)
    set_cells(FILTERS[names[0]])
    update()

    def column(title, image):
        return _fixed(widgets.VBox([widgets.HTML(f"<b>{title}</b>"), image],
                                   layout=widgets.Layout(max_width="100%")))

    controls = dict(photo=photo, filter=choice, cells=cells, display=display)
    return _assemble(
        [
            _title("Image filters", "Pick a photo and a kernel, or type your own 3×3 values."),
            _row(widgets.VBox([photo, choice, display]),
                 widgets.VBox([widgets.HTML("kernel values"), grid])),
            description,
            _row(column("input", before), column("output", after)),
            credit_line, readout, timing, message,
        ],
        controls, readout, message, result,
    )
