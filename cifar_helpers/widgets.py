"""Instructor widgets: live, clickable versions of the course's tested helpers.

Every builder returns an ipywidgets 8 widget (a ``VBox``) to display in
JupyterLab or in a Voilà page. The widgets only *wrap* the pure functions of
``cifar_helpers.convolution``, ``filters``, ``pooling``, ``activations`` and
``predict``: all the arithmetic lives (and is tested) there.

Each returned box also carries, for tests and for the curious:

``box.controls``
    dict of the interactive controls by name (sliders, dropdowns, buttons).
``box.readout``
    an ``HTML`` widget with one line of stable text (the current output value,
    output size, top-1 class…); it has the CSS class ``cifar-readout``.
``box.message``
    an ``HTML`` widget (CSS class ``cifar-message``) where a readable message
    appears when the input is bad (an empty kernel cell, a non-image upload,
    a kernel larger than the image). The widget stays usable.
``box.result``
    dict with the arrays/values behind the current display.

Callbacks never raise: a bad value shows a message instead.
ipywidgets is imported only here; the course helpers are imported inside the
builders, so ``import cifar_helpers.widgets`` stays light.
"""

from __future__ import annotations

import html
import io
import math
import tempfile
import time
from pathlib import Path

import ipywidgets as widgets
import numpy as np

__all__ = [
    "activation_explorer",
    "cifar_samples",
    "convolution_stepper",
    "feature_map_explorer",
    "filter_explorer",
    "parse_kernel",
    "pooling_explorer",
    "prediction_explorer",
    "stride_padding_explorer",
]

# A small feature map for the pooling explorer (rows/cols are easy to follow by eye).
POOLING_EXAMPLE = np.array(
    [
        [1, 3, 2, 1, 0, 4],
        [4, 6, 5, 0, 2, 1],
        [3, 1, 1, 0, 7, 3],
        [1, 2, 2, 4, 5, 8],
        [0, 5, 3, 1, 2, 2],
        [6, 1, 0, 2, 9, 1],
    ],
    dtype=float,
)

#: Largest grid the number-by-number widgets draw as a table of values.
MAX_TABLE_SIDE = 20
#: Longest side of a photo in the filter explorer (bigger photos are shrunk).
MAX_PHOTO_SIDE = 512

_PADDING_OPTIONS = [("valid", "valid"), ("same", "same"), ("1", 1), ("2", 2)]

# -- styles ------------------------------------------------------------------------------------
_CELL = (
    "border:1px solid #9e9e9e;min-width:2.1em;height:2.1em;padding:0 .3em;"
    "text-align:center;font-family:monospace;font-size:13px;"
)
_PAD_CELL = "background:#eeeeee;color:#9e9e9e;"
_WINDOW_CELL = "background:#ffd54f;font-weight:bold;"
_DONE_CELL = "background:#c8e6c9;"
_CURRENT_CELL = "background:#43a047;color:white;font-weight:bold;"
_TABLE = "border-collapse:collapse;margin:4px 12px 4px 0;"


# -- small pure helpers ------------------------------------------------------------------------
def _fmt(value):
    """Format a number for display: integers without a decimal point, else 3 significant digits.

    Examples
    --------
    >>> _fmt(4.0), _fmt(-0.0), _fmt(0.12345), _fmt(np.float32(2.5))
    ('4', '0', '0.123', '2.5')
    """
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.3g}"


def _factor(value):
    """A number as a product factor: negative numbers in brackets."""
    text = _fmt(value)
    return f"({text})" if text.startswith("-") else text


def _parse_number(text, where):
    text = str(text).strip().replace("\u2212", "-")
    if not text:
        raise ValueError(f"Kernel cell {where} is empty: type a number such as 0, 1 or -1.")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(
            f"Kernel cell {where} should hold a number; received {text!r}."
        ) from None
    if not math.isfinite(value):
        raise ValueError(f"Kernel cell {where} should be a finite number; received {text!r}.")
    return value


def parse_kernel(text):
    """Parse a kernel typed as rows of numbers: ``"1 0 1; 0 1 0; 1 0 1"`` or one row a line.

    Parameters
    ----------
    text : str
        Rows separated by ``;`` or new lines, values by spaces or commas.

    Returns
    -------
    (kh, kw) float ndarray

    Raises
    ------
    ValueError
        If the text is empty, a value is not a number, or the rows differ in length.

    Examples
    --------
    >>> parse_kernel("1 0 1; 0 1 0; 1 0 1")
    array([[1., 0., 1.],
           [0., 1., 0.],
           [1., 0., 1.]])
    """
    rows = [row for row in str(text).replace(";", "\n").splitlines() if row.strip()]
    if not rows:
        raise ValueError("The kernel is empty: type rows of numbers, e.g. 1 0 1; 0 1 0; 1 0 1.")
    values = []
    for r, row in enumerate(rows, start=1):
        cells = row.replace(",", " ").split()
        values.append([_parse_number(c, f"(row {r}, column {j})") for j, c in
                       enumerate(cells, start=1)])
    widths = {len(row) for row in values}
    if len(widths) != 1:
        raise ValueError(
            "Every kernel row should have the same number of values; received rows of "
            f"lengths {[len(row) for row in values]}."
        )
    return np.array(values, dtype=float)


def _kernel_text(kernel):
    kernel = np.asarray(kernel)
    return "; ".join(" ".join(_fmt(v) for v in row) for row in kernel)


def _as_grid(values, name, max_side=MAX_TABLE_SIDE):
    """Validate a small 2-D numeric array shown number by number."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` should be a 2-D array of numbers; received "
                         f"{type(values).__name__}.") from None
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"`{name}` should be a non-empty 2-D array (rows, cols); received "
                         f"shape {array.shape}.")
    if max(array.shape) > max_side:
        raise ValueError(f"`{name}` is drawn number by number, so it should be at most "
                         f"{max_side}×{max_side}; received shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` should contain only finite numbers (no NaN or inf).")
    return array


def _png(array, scale=1):
    """Encode an (H, W) or (H, W, 3) uint8 array as PNG bytes, enlarged `scale` times."""
    from PIL import Image

    array = np.asarray(array)
    if scale > 1:
        array = array.repeat(scale, axis=0).repeat(scale, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _to_uint8(image):
    """Display version of an image: uint8 as is, floats in [0, 1] (or 0..255) scaled."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    image = image.astype(float)
    if image.size and image.max() <= 1.0 + 1e-6:
        image = image * 255.0
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _heatmap(values, vmin=None, vmax=None, cmap="viridis"):
    """Colour a 2-D array with a Matplotlib colormap; returns (H, W, 3) uint8."""
    import matplotlib

    values = np.asarray(values, dtype=float)
    vmin = float(np.min(values)) if vmin is None else vmin
    vmax = float(np.max(values)) if vmax is None else vmax
    scaled = (values - vmin) / (vmax - vmin) if vmax > vmin else np.zeros_like(values)
    rgba = matplotlib.colormaps[cmap](np.clip(scaled, 0, 1), bytes=True)
    return rgba[..., :3]


def _figure_png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    return buffer.getvalue()


def _table(values, styles=None, title=""):
    """An HTML table of numbers; `styles` maps (row, col) to extra CSS."""
    styles = styles or {}
    values = np.asarray(values)
    rows = []
    for r in range(values.shape[0]):
        cells = "".join(
            f'<td style="{_CELL}{styles.get((r, c), "")}">'
            f'{"" if values[r, c] is None else _fmt(values[r, c])}</td>'
            for c in range(values.shape[1])
        )
        rows.append(f"<tr>{cells}</tr>")
    caption = f'<div style="font-size:12px;color:#555">{html.escape(title)}</div>'
    return f'<div style="display:inline-block;vertical-align:top">{caption}' \
           f'<table style="{_TABLE}">{"".join(rows)}</table></div>'


def _blank_table(shape, filled, styles, title):
    """A table showing only the cells in `filled` (dict (r, c) -> value)."""
    rows = []
    for r in range(shape[0]):
        cells = "".join(
            f'<td style="{_CELL}{styles.get((r, c), "")}">'
            f'{_fmt(filled[(r, c)]) if (r, c) in filled else ""}</td>'
            for c in range(shape[1])
        )
        rows.append(f"<tr>{cells}</tr>")
    caption = f'<div style="font-size:12px;color:#555">{html.escape(title)}</div>'
    return f'<div style="display:inline-block;vertical-align:top">{caption}' \
           f'<table style="{_TABLE}">{"".join(rows)}</table></div>'


# -- the common frame of every widget ----------------------------------------------------------
def _title(text, note=""):
    note_html = f'<div style="color:#555">{note}</div>' if note else ""
    heading = widgets.HTML(f"<h4 style='margin:4px 0'>{html.escape(text)}</h4>{note_html}")
    heading.text = text
    return heading


def _readout():
    return widgets.HTML("").add_class("cifar-readout")


def _message():
    return widgets.HTML("").add_class("cifar-message")


def _show_error(message, exc):
    text = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
    message.value = (
        '<div style="color:#b00020;border-left:4px solid #b00020;padding:2px 8px">'
        f"&#9888; {html.escape(text)}</div>"
    )


def _guarded(message, update):
    """Wrap `update` so that any error becomes a message in the widget, never an exception."""

    def run(*_args):
        try:
            update()
        except Exception as exc:  # noqa: BLE001  (a callback must never raise into the page)
            _show_error(message, exc)
        else:
            message.value = ""

    return run


class _Syncing:
    """A flag that is on while a widget sets its own controls (``with syncing: ...``),
    so that the controls' observers can ignore those changes."""

    def __init__(self):
        self.on = False

    def __enter__(self):
        self.on = True

    def __exit__(self, *exc_info):
        self.on = False


class _CourseWidget(widgets.VBox):
    """A ``VBox`` whose text form says what it is, not ``VBox(children=…)``.

    Where no live kernel draws the widget (a notebook viewed on GitHub, or
    stored outputs), this text is what a reader sees.
    """

    title = ""

    def __repr__(self):
        return f"[{self.title}: interactive widget, run the cell in JupyterLab or Voilà]"


def _assemble(children, controls, readout, message, result):
    box = _CourseWidget(children, layout=widgets.Layout(border="1px solid #ddd", padding="6px"))
    box.title = children[0].text
    box.add_class("cifar-widget")
    box.controls = controls
    box.readout = readout
    box.message = message
    box.result = result
    return box


def _observe(update, *controls):
    for control in controls:
        control.observe(update, names="value")


# -- convolution stepper -----------------------------------------------------------------------
def convolution_stepper(image=None, kernel=None):
    """Step a kernel across a small image, one output value at a time.

    Shows the (padded) input with the current window highlighted, the kernel,
    the element-wise products and their sum, and the output filling up.
    Controls: kernel (named or typed), strides, padding, the step slider and
    Previous / Next / Last buttons.

    Parameters
    ----------
    image : (H, W) array_like, optional
        At most 20×20, offered first. The tutorial's 5×5 binary image
        (``SEED_IMAGE``, the default) and its 8×7 stride example (``STRIDE_GRID``)
        are always offered.
    kernel : (kh, kw) array_like, optional
        Default: the tutorial's 3×3 kernel (``SEED_KERNEL``).

    Returns
    -------
    ipywidgets.VBox
        ``box.readout`` reads e.g. ``step 1 of 9: output[0, 0] = 4``.
    """
    from .convolution import conv2d, output_size, pad_amounts, pad_image, window_positions
    from .examples import SEED_IMAGE, SEED_KERNEL, STRIDE_GRID
    from .filters import FILTERS

    images = {"tutorial 5×5 image": _as_grid(SEED_IMAGE, "image"),
              "stride example 8×7": _as_grid(STRIDE_GRID, "image")}
    if image is not None:
        images = {"your image": _as_grid(image, "image"), **images}
    named = {"tutorial kernel": np.asarray(SEED_KERNEL, dtype=float)}
    if kernel is not None:
        named = {"your kernel": _as_grid(kernel, "kernel"), **named}
    named.update({name: np.asarray(k, dtype=float) for name, k in FILTERS.items()})
    first = next(iter(named))

    image_choice = widgets.Dropdown(options=list(images), description="image")
    kernel_choice = widgets.Dropdown(options=[*named, "custom"], value=first,
                                     description="kernel")
    kernel_text = widgets.Text(value=_kernel_text(named[first]), description="values",
                               continuous_update=False,
                               layout=widgets.Layout(width="320px"))
    strides = widgets.IntSlider(value=1, min=1, max=3, description="strides")
    padding = widgets.Dropdown(options=_PADDING_OPTIONS, value="valid", description="padding")
    step = widgets.IntSlider(value=1, min=1, max=1, description="step").add_class("cifar-step")
    previous = widgets.Button(description="◀ Previous", layout=widgets.Layout(width="110px"))
    following = widgets.Button(description="Next ▶", layout=widgets.Layout(width="110px"))
    last = widgets.Button(description="Last ▶▶", layout=widgets.Layout(width="110px"))
    grids = widgets.HTML()
    arithmetic = widgets.HTML()
    readout, message = _readout(), _message()
    result = {}
    syncing = _Syncing()

    def recompute():
        image = images[image_choice.value]
        if kernel_choice.value in named:
            kernel_values = named[kernel_choice.value]
        else:
            kernel_values = parse_kernel(kernel_text.value)
        s, pad = strides.value, padding.value
        pads = pad_amounts(image.shape, kernel_values.shape, s, pad)  # checks that it fits
        output = np.asarray(conv2d(image, kernel_values, strides=s, padding=pad))
        result.clear()
        result.update(
            image=image, kernel=kernel_values, pads=pads, output=output, strides=s, padding=pad,
            padded=pad_image(image, kernel_values.shape, s, pad),
            windows=list(window_positions(image.shape, kernel_values.shape, s, pad)),
            output_shape=output_size(image.shape, kernel_values.shape, s, pad),
        )
        step.max = output.size
        if step.value > output.size:
            step.value = output.size

    def draw():
        if not result:
            return
        output, padded, kernel_values = result["output"], result["padded"], result["kernel"]
        image = result["image"]
        (top, _), (left, _) = result["pads"]
        kh, kw = kernel_values.shape
        t = min(step.value, output.size) - 1
        i, j, rows, cols = result["windows"][t]
        r0, c0 = rows.start, cols.start
        window = padded[rows, cols]
        styles = {}
        for r in range(padded.shape[0]):
            for c in range(padded.shape[1]):
                inside = top <= r < top + image.shape[0] and left <= c < left + image.shape[1]
                if not inside:
                    styles[(r, c)] = _PAD_CELL
                if r0 <= r < r0 + kh and c0 <= c < c0 + kw:
                    styles[(r, c)] = _WINDOW_CELL
        filled = {(a, b): output[a, b] for a, b, _, _ in result["windows"][:t + 1]}
        out_styles = {cell: _DONE_CELL for cell in filled}
        out_styles[(i, j)] = _CURRENT_CELL
        padded_note = " (grey: zero padding)" if padded.shape != image.shape else ""
        grids.value = (
            _table(padded, styles, f"input{padded_note}")
            + _table(kernel_values, {}, f"kernel {kh}×{kw}")
            + _blank_table(output.shape, filled, out_styles,
                           f"output {output.shape[0]}×{output.shape[1]}")
        )
        products = " + ".join(f"{_factor(a)}×{_factor(b)}" for a, b in
                              zip(window.ravel(), kernel_values.ravel(), strict=True))
        value = output[i, j]
        arithmetic.value = (
            f"<div style='font-family:monospace;font-size:13px'>window rows {r0}–{r0 + kh - 1}, "
            f"columns {c0}–{c0 + kw - 1}:<br>{products} = <b>{_fmt(value)}</b></div>"
        )
        result.update(step=t + 1, cell=(i, j), value=float(value),
                      products=window * kernel_values)
        readout.value = (f"step {t + 1} of {output.size}: output[{i}, {j}] = {_fmt(value)}"
                         f" &nbsp;·&nbsp; output size {output.shape[0]}×{output.shape[1]}")

    def on_kernel_choice(change):
        if syncing.on or change["new"] == "custom":
            return
        with syncing:
            kernel_text.value = _kernel_text(named[change["new"]])
        full_update()

    def on_kernel_text(_change):
        if not syncing.on:
            try:
                typed = parse_kernel(kernel_text.value)
            except ValueError:
                typed = None
            chosen = named.get(kernel_choice.value)
            if typed is None or chosen is None or typed.shape != chosen.shape or \
                    not np.array_equal(typed, chosen):
                with syncing:
                    kernel_choice.value = "custom"
        full_update()

    def full():
        result.clear()
        grids.value = arithmetic.value = readout.value = ""
        recompute()
        draw()

    full_update = _guarded(message, full)
    draw_update = _guarded(message, draw)
    kernel_choice.observe(on_kernel_choice, names="value")
    kernel_text.observe(on_kernel_text, names="value")
    _observe(full_update, image_choice, strides, padding)
    step.observe(draw_update, names="value")

    def move(delta):
        def click(_button):
            step.value = min(max(step.value + delta, step.min), step.max)
        return click

    previous.on_click(move(-1))
    following.on_click(move(+1))
    last.on_click(lambda _button: setattr(step, "value", step.max))
    full_update()

    controls = dict(image=image_choice, kernel=kernel_choice, kernel_values=kernel_text,
                    strides=strides,
                    padding=padding, step=step, previous=previous, next=following, last=last)
    return _assemble(
        [
            _title("Convolution, step by step",
                   "Each output value is the sum of the window times the kernel."),
            widgets.HBox([kernel_choice, kernel_text]),
            widgets.HBox([image_choice, strides, padding]),
            widgets.HBox([step, previous, following, last]),
            grids, arithmetic, readout, message,
        ],
        controls, readout, message, result,
    )


# -- filter explorer ---------------------------------------------------------------------------
def _load_photo(path, max_side=MAX_PHOTO_SIDE):
    from PIL import Image, ImageOps

    with Image.open(path) as photo:
        photo = ImageOps.exif_transpose(photo).convert("RGB")
        photo.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        return np.asarray(photo)


_CIFAR_CACHE = {}
CIFAR_CREDIT = ("CIFAR-10 test set (Alex Krizhevsky, Learning Multiple Layers of Features from "
                "Tiny Images, 2009)")


def cifar_samples():
    """The first CIFAR-10 test image of each class, if a local copy of CIFAR-10 is found.

    Returns
    -------
    dict
        ``{"CIFAR-10 cat (test #0)": (32, 32, 3) uint8 ndarray, ...}`` in class
        order, or an empty dict when no local copy exists (nothing is downloaded).
    """
    if "samples" not in _CIFAR_CACHE:
        from .data import CLASS_NAMES, TEST_BATCH, find_cifar10_dir, load_batch

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
        from .photos import PHOTOS, photo_path

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
        raise ValueError("`images` should hold at least one image; received an empty collection.")
    sources = {}
    for name, item in items:
        if isinstance(item, (str, Path)):
            sources[str(name)] = lambda item=item: loader(item)
        else:
            array = np.asarray(item)
            if array.ndim not in (2, 3):
                raise ValueError(f"Each image should be (H, W) or (H, W, 3); image {name!r} "
                                 f"has shape {array.shape}.")
            sources[str(name)] = lambda array=array: array
    return sources


def _credit_for(name):
    from .photos import PHOTOS, credit

    if name in PHOTOS:
        return html.escape(credit(name))
    if name.startswith("CIFAR-10 "):
        return html.escape(f"{name}: {CIFAR_CREDIT}")
    return ""


def filter_explorer(images=None):
    """Apply a named or hand-typed 3×3 kernel to a photo; input and output side by side.

    Parameters
    ----------
    images : dict or sequence, optional
        ``{name: array or path}`` or a list of arrays/paths. Default: the course
        photos in ``images/`` (shrunk to at most 512 pixels a side).

    Returns
    -------
    ipywidgets.VBox
        ``box.result["output"]`` is ``apply_filter(image, kernel)``.
    """
    from .filters import FILTER_DESCRIPTIONS, FILTERS, apply_filter

    sources = _image_sources(images, _load_photo)
    cache = {}
    names = list(FILTERS)
    photo = widgets.Dropdown(options=list(sources), description="photo")
    choice = widgets.Dropdown(options=[*names, "custom"], value=names[0], description="filter")
    cells = [widgets.Text(layout=widgets.Layout(width="60px"), continuous_update=False)
             for _ in range(9)]
    grid = widgets.GridBox(cells, layout=widgets.Layout(
        grid_template_columns="repeat(3, 64px)", grid_gap="2px"))
    before = widgets.Image(format="png", layout=widgets.Layout(max_width="360px"))
    after = widgets.Image(format="png", layout=widgets.Layout(max_width="360px"))
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
        output = apply_filter(image, kernel, normalize=display.value)
        shown = _to_uint8(output)
        scale = max(1, 256 // max(np.shape(image)[:2]))  # CIFAR-10's 32×32 shown 8× larger
        if photo.value != result.get("photo"):
            before.value = _png(_to_uint8(image), scale)
            credit_line.value = f"<small>{_credit_for(photo.value)}</small>"
        after.value = _png(shown, scale)
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
        return widgets.VBox([widgets.HTML(f"<b>{title}</b>"), image])

    controls = dict(photo=photo, filter=choice, cells=cells, display=display)
    return _assemble(
        [
            _title("Image filters", "Pick a photo and a kernel, or type your own 3×3 values."),
            widgets.HBox([widgets.VBox([photo, choice, display]),
                          widgets.VBox([widgets.HTML("kernel values"), grid])]),
            description,
            widgets.HBox([column("input", before), column("output", after)]),
            credit_line, readout, timing, message,
        ],
        controls, readout, message, result,
    )


# -- strides and padding -----------------------------------------------------------------------
def _size_formula(n, k, s, padding):
    """The output-size arithmetic as text."""
    if padding == "same":
        return f"⌈{n} / {s}⌉ = {-(-n // s)}"
    p = 0 if padding == "valid" else int(padding)
    return f"⌊({n} + 2·{p} − {k}) / {s}⌋ + 1 = {(n + 2 * p - k) // s + 1}"


def stride_padding_explorer():
    """Draw every window of a kernel sliding over a grid, with the output-size formula.

    Controls: input size, kernel size, strides, padding, and the window to
    highlight. The readout gives the output size by the formula
    ⌊(n + 2p − f) / s⌋ + 1 (or ⌈n / s⌉ for "same") and the value of
    ``cifar_helpers.convolution.output_size``.

    Returns
    -------
    ipywidgets.VBox
    """
    from .convolution import output_size, pad_amounts

    size = widgets.IntSlider(value=7, min=3, max=12, description="input size")
    kernel_size = widgets.IntSlider(value=3, min=1, max=7, description="kernel_size")
    strides = widgets.IntSlider(value=2, min=1, max=4, description="strides")
    padding = widgets.Dropdown(options=[*_PADDING_OPTIONS, ("3", 3)], value="valid",
                               description="padding")
    window = widgets.IntSlider(value=1, min=1, max=1, description="window")
    picture = widgets.Image(format="png", layout=widgets.Layout(max_width="420px"))
    readout, message = _readout(), _message()
    result = {}

    def redraw():
        from matplotlib.collections import PatchCollection
        from matplotlib.figure import Figure
        from matplotlib.patches import Rectangle

        n, k, s, pad = size.value, kernel_size.value, strides.value, padding.value
        result.clear()
        readout.value = ""
        (before, after), _ = pad_amounts((n, n), k, s, pad)  # raises if the kernel does not fit
        padded = n + before + after
        out = output_size(n, k, s, pad)
        count = out * out
        window.max = count
        t = min(window.value, count) - 1
        i, j = divmod(t, out)
        fig = Figure(figsize=(4.2, 4.2))
        ax = fig.subplots()
        inside = np.zeros((padded, padded))
        inside[before:before + n, before:before + n] = 1
        ax.imshow(inside, cmap="gray", vmin=-3, vmax=1, extent=(0, padded, padded, 0),
                  interpolation="nearest")
        ax.hlines(range(padded + 1), 0, padded, color="#9e9e9e", linewidth=0.8)
        ax.vlines(range(padded + 1), 0, padded, color="#9e9e9e", linewidth=0.8)
        frames = [Rectangle((b * s + 0.08, a * s + 0.08), k - 0.16, k - 0.16)
                  for a in range(out) for b in range(out)]
        ax.add_collection(PatchCollection(frames, facecolor="none", edgecolor="#1e88e5",
                                          alpha=0.35, linewidth=1))
        ax.add_patch(Rectangle((j * s, i * s), k, k, facecolor="#ffd54f", alpha=0.6,
                               edgecolor="#e65100", linewidth=2.5))
        ax.set_xlim(0, padded)
        ax.set_ylim(padded, 0)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"{n}×{n} input, {k}×{k} kernel, strides {s}, padding {pad!r}",
                     fontsize=10)
        picture.value = _figure_png(fig)
        result.update(output_size=out, formula=_size_formula(n, k, s, pad), pads=(before, after),
                      window=(i, j))
        readout.value = (f"output size: {_size_formula(n, k, s, pad)} → {out}×{out} "
                         f"(output_size gives {out}); window {t + 1} of {count} covers rows "
                         f"{i * s}–{i * s + k - 1}, columns {j * s}–{j * s + k - 1}")

    update = _guarded(message, redraw)
    _observe(update, size, kernel_size, strides, padding, window)
    update()
    controls = dict(size=size, kernel_size=kernel_size, strides=strides, padding=padding,
                    window=window)
    return _assemble(
        [
            _title("Strides and padding",
                   "Blue: every window; yellow: the chosen one; grey: zero padding."),
            widgets.HBox([widgets.VBox([size, kernel_size, strides, padding, window]), picture]),
            readout, message,
        ],
        controls, readout, message, result,
    )


# -- pooling -----------------------------------------------------------------------------------
def pooling_explorer(feature_map=None):
    """Max, average or sum pooling over a feature map, one window at a time.

    Parameters
    ----------
    feature_map : (H, W) or (H, W, C) array_like, optional
        Default: a 6×6 example map (``POOLING_EXAMPLE``). Maps up to 20×20 are
        shown number by number, bigger ones as pictures.

    Returns
    -------
    ipywidgets.VBox
        ``box.result["output"]`` is ``pool2d(feature_map, pool_size, strides, padding, mode)``.
    """
    from .pooling import pool2d, pool_padding

    source = POOLING_EXAMPLE if feature_map is None else feature_map
    try:
        data = np.asarray(source, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("`feature_map` should be an array of numbers of shape (H, W) or "
                         f"(H, W, C); received {type(source).__name__}.") from None
    if data.ndim == 2:
        data = data[..., np.newaxis]
    if data.ndim != 3 or data.size == 0:
        raise ValueError("`feature_map` should have shape (H, W) or (H, W, C); received "
                         f"shape {np.shape(source)}.")
    channels = data.shape[2]
    as_table = max(data.shape[:2]) <= MAX_TABLE_SIDE

    mode = widgets.ToggleButtons(options=["max", "average", "sum"], value="max",
                                 description="mode")
    pool_size = widgets.IntSlider(value=2, min=1, max=4, description="pool_size")
    # 0 stands for strides=None (Keras' default: the pool size); a None value would show blank
    strides = widgets.Dropdown(options=[("= pool_size", 0), ("1", 1), ("2", 2), ("3", 3)],
                               value=0, description="strides")
    padding = widgets.Dropdown(options=["valid", "same"], value="valid", description="padding")
    channel = widgets.IntSlider(value=0, min=0, max=channels - 1, description="channel",
                                layout=widgets.Layout(display="" if channels > 1 else "none"))
    window = widgets.IntSlider(value=1, min=1, max=1, description="window")
    grids = widgets.HTML()
    pictures = widgets.Image(format="png", layout=widgets.Layout(
        max_width="520px", display="none" if as_table else ""))
    arithmetic = widgets.HTML()
    readout, message = _readout(), _message()
    result = {}

    def redraw():
        p, s, pad, m = pool_size.value, strides.value or None, padding.value, mode.value
        step = p if s is None else s
        x = data[..., channel.value]
        result.clear()
        grids.value = arithmetic.value = readout.value = ""
        output = np.asarray(pool2d(x, pool_size=p, strides=s, padding=pad, mode=m))
        pads = [pool_padding(n, p, step, pad)[:2] for n in x.shape]
        window.max = output.size
        t = min(window.value, output.size) - 1
        i, j = divmod(t, output.shape[1])
        top, left = pads[0][0], pads[1][0]
        r0, c0 = i * step - top, j * step - left
        rows = range(max(r0, 0), min(r0 + p, x.shape[0]))
        cols = range(max(c0, 0), min(c0 + p, x.shape[1]))
        values = [x[r, c] for r in rows for c in cols]
        word = {"max": "max", "average": "mean", "sum": "sum"}[m]
        if as_table:
            styles = {(r, c): _WINDOW_CELL for r in rows for c in cols}
            out_styles = {(i, j): _CURRENT_CELL}
            grids.value = (_table(x, styles, f"feature map {x.shape[0]}×{x.shape[1]}")
                           + _table(output, out_styles,
                                    f"{m} pooled {output.shape[0]}×{output.shape[1]}"))
            arithmetic.value = (
                "<div style='font-family:monospace;font-size:13px'>"
                f"{word}({', '.join(_fmt(v) for v in values)}) = <b>{_fmt(output[i, j])}</b>"
                "</div>"
            )
        else:
            low, high = float(x.min()), float(x.max())
            if m == "sum":
                low, high = float(output.min()), float(output.max())
            scale = max(1, 256 // max(x.shape))
            left_img = _heatmap(x).repeat(scale, 0).repeat(scale, 1)
            right = _heatmap(output, *(None, None) if m == "sum" else (low, high))
            factor = left_img.shape[0] // output.shape[0] if output.shape[0] else 1
            right_img = right.repeat(max(factor, 1), 0).repeat(max(factor, 1), 1)
            canvas = np.full((max(left_img.shape[0], right_img.shape[0]),
                              left_img.shape[1] + 12 + right_img.shape[1], 3), 255, np.uint8)
            canvas[:left_img.shape[0], :left_img.shape[1]] = left_img
            canvas[:right_img.shape[0], left_img.shape[1] + 12:] = right_img
            pictures.value = _png(canvas)
            grids.value = ""
            arithmetic.value = ""
        result.update(output=output, cell=(i, j), value=float(output[i, j]), window=values)
        readout.value = (f"{m} pooling, pool_size {p}, strides {step}, padding {pad!r}: "
                         f"{x.shape[0]}×{x.shape[1]} → {output.shape[0]}×{output.shape[1]}; "
                         f"output[{i}, {j}] = {_fmt(output[i, j])}")

    update = _guarded(message, redraw)
    _observe(update, mode, pool_size, strides, padding, channel, window)
    update()
    controls = dict(mode=mode, pool_size=pool_size, strides=strides, padding=padding,
                    channel=channel, window=window)
    return _assemble(
        [
            _title("Pooling", "Each output value summarises one window of the feature map."),
            mode,
            widgets.HBox([pool_size, strides, padding]),
            widgets.HBox([window, channel]),
            grids, pictures, arithmetic, readout, message,
        ],
        controls, readout, message, result,
    )


# -- activations -------------------------------------------------------------------------------
def _default_feature_map():
    """A signed feature map: a vertical-edge kernel over a small grey photo of a cat."""
    from .convolution import conv2d
    from .photos import photo_path

    grey = _load_photo(photo_path("cat_2.png"), max_side=96).mean(axis=2) / 255.0
    kernel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])  # Sobel, columns
    return np.asarray(conv2d(grey, kernel), dtype=float)


def activation_explorer(feature_map=None):
    """ReLU, tanh or sigmoid applied to a feature map, with histograms before and after.

    Parameters
    ----------
    feature_map : (H, W) array_like, optional
        Default: a vertical-edge (Sobel) response of a grey photo of a cat,
        with positive and negative values.

    Returns
    -------
    ipywidgets.VBox
        ``box.result["after"]`` is the chosen activation of the map.
    """
    from . import activations

    data = _default_feature_map() if feature_map is None else feature_map
    try:
        data = np.asarray(data, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("`feature_map` should be a 2-D array of numbers; received "
                         f"{type(feature_map).__name__}.") from None
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[..., 0]
    if data.ndim != 2 or data.size == 0:
        raise ValueError(f"`feature_map` should have shape (H, W); received shape {data.shape}.")
    functions = {"relu": activations.relu, "tanh": activations.tanh,
                 "sigmoid": activations.sigmoid}
    choice = widgets.ToggleButtons(options=list(functions), value="relu",
                                   description="activation")
    picture = widgets.Image(format="png", layout=widgets.Layout(max_width="640px"))
    readout, message = _readout(), _message()
    result = {}

    def redraw():
        from matplotlib.figure import Figure

        after = np.asarray(functions[choice.value](data), dtype=float)
        fig = Figure(figsize=(8, 5.2))
        axes = fig.subplots(2, 2)
        for column, (values, label) in enumerate(((data, "before"),
                                                  (after, f"after {choice.value}"))):
            limit = float(np.max(np.abs(values))) or 1.0
            shown = axes[0, column].imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit)
            axes[0, column].set_title(label, fontsize=10)
            axes[0, column].axis("off")
            fig.colorbar(shown, ax=axes[0, column], shrink=0.8)
            axes[1, column].hist(values.ravel(), bins=40, color="#1e88e5")
            axes[1, column].set_xlabel("value")
        axes[1, 0].set_ylabel("count")
        fig.tight_layout()
        picture.value = _figure_png(fig)
        zeroed = float(np.mean((after == 0) & (data != 0)) * 100)
        result.update(before=data, after=after)
        readout.value = (
            f"before: min {_fmt(data.min())}, max {_fmt(data.max())}, mean {_fmt(data.mean())}"
            f" · after {choice.value}: min {_fmt(after.min())}, max {_fmt(after.max())}, "
            f"mean {_fmt(after.mean())} · {zeroed:.1f}% of the values set to 0"
        )

    update = _guarded(message, redraw)
    choice.observe(update, names="value")
    update()
    return _assemble(
        [_title("Activations", "Red: positive, blue: negative values."), choice, picture,
         readout, message],
        dict(activation=choice), readout, message, result,
    )


# -- predictions -------------------------------------------------------------------------------
def _probability_bars(pairs):
    rows = []
    for name, probability in pairs:
        width = max(probability * 100, 0.5)
        rows.append(
            "<tr>"
            f"<td style='padding:1px 8px;text-align:right'>{html.escape(name)}</td>"
            f"<td style='width:260px'><div style='background:#1e88e5;height:14px;"
            f"width:{width:.1f}%'></div></td>"
            f"<td style='padding:1px 8px;font-family:monospace'>{probability * 100:.1f}%</td>"
            "</tr>"
        )
    return f"<table>{''.join(rows)}</table>"


def _upload_items(value):
    """The uploaded files of an ipywidgets 8 ``FileUpload.value`` (a tuple of dicts)."""
    if isinstance(value, dict):  # ipywidgets 7 used {name: {...}}
        value = tuple(value.values())
    return list(value or ())


def _load_upload(item):
    """The 32×32 RGB pixels of one uploaded file, via `cifar_helpers.predict.load_image`."""
    from .predict import load_image

    name = Path(str(item.get("name") or "upload")).name or "upload"
    content = bytes(item.get("content") or b"")
    if not content:
        raise ValueError(f"The uploaded file '{name}' is empty: choose a photo (JPEG, PNG…).")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        return load_image(path)


def prediction_explorer(model):
    """Pick a sample photo or upload one; shows the 32×32 input and the top-k probabilities.

    Parameters
    ----------
    model : keras.Model
        A CIFAR-10 classifier taking (N, 32, 32, 3) inputs scaled to [0, 1],
        e.g. ``cifar_helpers.models.load_or_train_seed_model()``.

    Returns
    -------
    ipywidgets.VBox
        ``box.readout`` reads e.g. ``truck_1.jpg → truck (87.3%)``;
        ``box.result["top"]`` is ``predict_image(model, image, top_k)``.
    """
    from .predict import load_image, predict_image

    if model is None:
        raise ValueError("`prediction_explorer` needs a trained Keras model; received None. "
                         "Try cifar_helpers.models.load_or_train_seed_model().")
    sources = _image_sources(None, load_image)
    sample = widgets.Dropdown(options=list(sources), description="sample")
    upload = widgets.FileUpload(accept="image/*", multiple=False, description="Upload photo")
    top_k = widgets.IntSlider(value=3, min=1, max=10, description="top_k")
    picture = widgets.Image(format="png", layout=widgets.Layout(width="192px", height="192px"))
    bars = widgets.HTML()
    credit_line = widgets.HTML()
    readout, message = _readout(), _message()
    result = {}
    cache = {}

    def show(name, image, credit_text=""):
        top = predict_image(model, image, top_k=top_k.value)
        picture.value = _png(_to_uint8(image), scale=6)
        bars.value = _probability_bars(top)
        credit_line.value = f"<small>{credit_text}</small>"
        result.update(name=name, image=image, top=top)
        best, probability = top[0]
        readout.value = f"{html.escape(name)} → {html.escape(best)} ({probability * 100:.1f}%)"

    def from_sample():
        name = sample.value
        if name not in cache:
            cache[name] = sources[name]()
        show(name, cache[name], _credit_for(name))

    def from_upload():
        items = _upload_items(upload.value)
        if not items:
            return
        item = items[-1]
        try:
            image = _load_upload(item)
        finally:
            upload.value = ()  # so that the same file can be uploaded again
        show(Path(str(item.get("name") or "upload")).name, image, "your photo")

    def again():
        if result.get("name") == sample.value or "image" not in result:
            from_sample()
        else:
            show(result["name"], result["image"])

    sample.observe(_guarded(message, from_sample), names="value")
    upload.observe(_guarded(message, from_upload), names="value")
    top_k.observe(_guarded(message, again), names="value")
    _guarded(message, from_sample)()
    controls = dict(sample=sample, upload=upload, top_k=top_k)
    return _assemble(
        [
            _title("What does the network say?",
                   "Choose a sample photo or upload your own; the network sees only 32×32 "
                   "pixels."),
            widgets.HBox([sample, upload, top_k]),
            widgets.HBox([widgets.VBox([widgets.HTML("<b>the 32×32 input</b>"), picture]),
                          widgets.VBox([widgets.HTML("<b>top-k probabilities</b>"), bars])]),
            credit_line, readout, message,
        ],
        controls, readout, message, result,
    )


# -- feature maps ------------------------------------------------------------------------------
def _layer_outputs(model, batch):
    """Outputs of every layer of `model` for `batch`, as a list of NumPy arrays."""
    import keras

    if isinstance(model, keras.Sequential):
        outputs, x = [], keras.ops.convert_to_tensor(batch)
        for layer in model.layers:
            x = layer(x, training=False)
            outputs.append(keras.ops.convert_to_numpy(x))
        return outputs
    probe = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers
                                                      if layer not in model.inputs])
    return [np.asarray(a) for a in probe(batch, training=False)]


def _tile_maps(maps, columns=8, scale=4, gap=2):
    """Tile (H, W, C) feature maps into one picture, each map scaled to its own range."""
    h, w, count = maps.shape
    rows = -(-count // columns)
    canvas = np.full((rows * (h * scale + gap), columns * (w * scale + gap), 3), 255, np.uint8)
    for k in range(count):
        r, c = divmod(k, columns)
        tile = _heatmap(maps[..., k]).repeat(scale, 0).repeat(scale, 1)
        top, left = r * (h * scale + gap), c * (w * scale + gap)
        canvas[top:top + h * scale, left:left + w * scale] = tile
    return canvas


def feature_map_explorer(model, images=None):
    """Choose an image and a layer; shows that layer's feature maps.

    Parameters
    ----------
    model : keras.Model
        A CIFAR-10 CNN taking (N, 32, 32, 3) inputs scaled to [0, 1].
    images : dict or sequence, optional
        ``{name: (32, 32, 3) uint8 array or path}``. Default: the course photos,
        shrunk to 32×32 with ``cifar_helpers.predict.load_image``.

    Returns
    -------
    ipywidgets.VBox
        ``box.result["maps"]`` is the chosen layer's output for the chosen image.
    """
    from .data import scale_pixels
    from .predict import load_image

    if model is None:
        raise ValueError("`feature_map_explorer` needs a Keras model; received None.")
    try:
        expected = tuple(int(n) for n in model.input_shape[1:])
    except (AttributeError, TypeError, ValueError):
        expected = (32, 32, 3)
    sources = _image_sources(images, lambda path: load_image(path, size=expected[:2]))
    layer_names = [layer.name for layer in model.layers]
    image_choice = widgets.Dropdown(options=list(sources), description="image")
    layer_choice = widgets.Dropdown(options=[], description="layer")
    picture = widgets.Image(format="png", layout=widgets.Layout(width="128px", height="128px"))
    maps_picture = widgets.Image(format="png", layout=widgets.Layout(max_width="720px"))
    readout, message = _readout(), _message()
    result = {}
    cache = {}
    syncing = _Syncing()

    def activations_of(name):
        if name not in cache:
            image = np.asarray(sources[name]())
            if image.shape != expected or image.dtype != np.uint8:
                raise ValueError(
                    f"The network expects a {'×'.join(map(str, expected))} uint8 image; "
                    f"{name!r} is {image.dtype} of shape {image.shape}."
                )
            batch = scale_pixels(image)[np.newaxis]
            cache[name] = (image, _layer_outputs(model, batch))
        return cache[name]

    def set_layers():
        _, outputs = activations_of(image_choice.value)
        spatial = [name for name, out in zip(layer_names, outputs, strict=True)
                   if np.ndim(out) == 4]
        if not spatial:
            raise ValueError("This model has no layer with (H, W, C) feature maps.")
        with syncing:
            layer_choice.options = spatial
            layer_choice.value = spatial[0]

    def redraw():
        if not layer_choice.options:
            set_layers()
        image, outputs = activations_of(image_choice.value)
        name = layer_choice.value
        maps = outputs[layer_names.index(name)][0]
        picture.value = _png(_to_uint8(image), scale=4)
        maps_picture.value = _png(_tile_maps(maps))
        strongest = int(np.argmax(maps.reshape(-1, maps.shape[-1]).max(axis=0)))
        result.update(image=image, layer=name, maps=maps)
        readout.value = (f"{html.escape(image_choice.value)}, layer {html.escape(name)}: "
                         f"{maps.shape[0]}×{maps.shape[1]}×{maps.shape[2]} feature maps; "
                         f"strongest: map {strongest} (max {_fmt(maps[..., strongest].max())})")

    update = _guarded(message, redraw)

    def on_change(_change):
        if not syncing.on:
            update()

    image_choice.observe(on_change, names="value")
    layer_choice.observe(on_change, names="value")
    update()
    return _assemble(
        [
            _title("Feature maps", "Bright: strong response. Each map is scaled on its own."),
            widgets.HBox([image_choice, layer_choice]),
            widgets.HBox([widgets.VBox([widgets.HTML("<b>input</b>"), picture]),
                          maps_picture]),
            readout, message,
        ],
        dict(image=image_choice, layer=layer_choice), readout, message, result,
    )
