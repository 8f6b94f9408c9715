"""The frame every widget shares: title, readout, message, guarded updates, kernel parsing.

A widget is a `_CourseWidget` (a ``VBox``) put together by `_assemble`, with
``box.controls``, ``box.readout``, ``box.message`` and ``box.result`` (see the
package docstring). Its callbacks are wrapped by `_guarded`, so that a bad
value shows a message beside the last valid drawing instead of raising.
"""

from __future__ import annotations

import html
import math

import ipywidgets as widgets
import numpy as np

from .._validation import as_real_array
from ..drawing import format_number

__all__ = ["parse_kernel"]

#: Largest grid the number-by-number widgets draw as a table of values.
MAX_TABLE_SIDE = 20

#: The padding choices of the convolution widgets (label, value).
PADDING_OPTIONS = [("valid", "valid"), ("same", "same"), ("1", 1), ("2", 2)]

#: Short name for the number formatting every readout uses.
_fmt = format_number


# -- kernels typed by hand ---------------------------------------------------------------------
def _parse_number(text, where):
    """One kernel cell typed by hand (``where`` names it in messages) as a float."""
    text = str(text).strip().replace("\u2212", "-")
    if not text:
        raise ValueError(f"Kernel cell {where} is empty: type a number such as 0, 1 or -1.")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"Kernel cell {where} must hold a number. Received {text!r}.") from None
    if not math.isfinite(value):
        raise ValueError(f"Kernel cell {where} must be a finite number. Received {text!r}.")
    return value


def parse_kernel(text):
    """Parse a kernel typed as rows of numbers: ``"1 0 1; 0 1 0; 1 0 1"`` or one row a line.

    Parameters
    ----------
    text : str
        Rows separated by ``;`` or new lines, values by spaces or commas.
        A typographic minus (``−``) counts as ``-``.

    Returns
    -------
    (kh, kw) float ndarray

    Raises
    ------
    ValueError
        If the text is empty, a value is not a finite number, or the rows
        differ in length.

    Examples
    --------
    >>> parse_kernel("1 0 1; 0 1 0; 1 0 1")
    array([[1., 0., 1.],
           [0., 1., 0.],
           [1., 0., 1.]])
    >>> parse_kernel("1 2; 3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Every kernel row must have the same number of values. Received rows of ...
    """
    rows = [row for row in str(text).replace(";", "\n").splitlines() if row.strip()]
    if not rows:
        raise ValueError("The kernel is empty: type rows of numbers, e.g. 1 0 1; 0 1 0; 1 0 1.")
    values = []
    for r, row in enumerate(rows, start=1):
        cells = row.replace(",", " ").split()
        values.append([_parse_number(cell, f"(row {r}, column {j})")
                       for j, cell in enumerate(cells, start=1)])
    if len({len(row) for row in values}) != 1:
        raise ValueError(
            "Every kernel row must have the same number of values. Received rows of "
            f"lengths {[len(row) for row in values]}."
        )
    return np.array(values, dtype=float)


def _kernel_text(kernel):
    """The text `parse_kernel` reads back as `kernel`.

    Examples
    --------
    >>> _kernel_text([[1, 0.5], [-1, 0]])
    '1 0.5; -1 0'
    """
    return "; ".join(" ".join(_fmt(v) for v in row) for row in np.asarray(kernel))


def _as_grid(values, name, max_side=MAX_TABLE_SIDE):
    """A small 2-D array of finite numbers, shown number by number, as floats."""
    array = as_real_array(values, name, (2,), "(rows, cols)")
    if max(array.shape) > max_side:
        raise ValueError(f"`{name}` is drawn number by number, so it must be at most "
                         f"{max_side}×{max_side}. Received {name}.shape={array.shape}.")
    return array.astype(float)


# -- the look: JupyterLab's theme variables, sizes relative to the page's text --------------------
#: The widgets' style sheet. Colours come from JupyterLab's CSS variables (with fallbacks for
#: other pages), so the light and dark themes both apply; every size follows the notebook's
#: text size (``--jp-content-font-size1``), so browser zoom and Presentation Mode enlarge the
#: controls with the text. ipywidgets sizes its controls from ``--jp-widgets-*`` variables set
#: on ``:root``; they are set again here, for the inside of a course widget only.
STYLE_SHEET = """<style>
.cifar-widget {
  --cifar-font-size: var(--jp-content-font-size1, 14px);
  --jp-widgets-font-size: var(--cifar-font-size);
  --jp-widgets-inline-height: calc(2 * var(--cifar-font-size));
  --jp-widgets-inline-label-width: calc(6 * var(--cifar-font-size));
  --jp-widgets-inline-width: calc(23 * var(--cifar-font-size));
  --jp-widgets-inline-width-short: calc(11 * var(--cifar-font-size));
  --jp-widgets-inline-width-tiny: calc(5 * var(--cifar-font-size));
  --jp-widgets-slider-handle-size: calc(1.15 * var(--cifar-font-size));
  font-size: var(--cifar-font-size);
  color: var(--jp-content-font-color1, rgba(0, 0, 0, 0.87));
  background: var(--jp-layout-color1, #fff);
  border: 1px solid var(--jp-border-color2, #e0e0e0);
  padding: 0.4em;
  box-sizing: border-box;
  max-width: 100%;
}
.cifar-widget .widget-html-content { line-height: 1.45; }
.cifar-widget .jupyter-button { width: auto; min-width: 4em; }
.cifar-widget .cifar-message { min-height: 2.9em; }
.cifar-widget .cifar-row { flex-wrap: wrap; align-items: flex-start; max-width: 100%; }
.cifar-widget .cifar-fixed { flex: 0 0 auto; }
</style>"""


# -- the parts of every widget -----------------------------------------------------------------
def _title(text, note=""):
    """The widget's heading (with the style sheet); ``note`` is one line of (HTML) help."""
    note_html = f'<div style="font-size:0.93em">{note}</div>' if note else ""
    heading = widgets.HTML(f"{STYLE_SHEET}<h4 style='margin:0.2em 0;font-size:1.15em'>"
                           f"{html.escape(text)}</h4>{note_html}")
    heading.text = text
    return heading


def _row(*children):
    """A row of controls or pictures that wraps onto the next line instead of overflowing."""
    return widgets.HBox(list(children)).add_class("cifar-row")


def _fixed(child):
    """`child`, kept at its own size in a row (flexbox may not squeeze it to nothing)."""
    return child.add_class("cifar-fixed")


def _readout():
    return widgets.HTML("").add_class("cifar-readout")


def _message():
    """Where a bad input's message appears; its room is kept, so a message moves nothing."""
    return widgets.HTML("").add_class("cifar-message")


#: Inline style of a message: its own background and text colour, readable in any theme.
_MESSAGE_STYLE = ("background:#fdecea;color:#8a1c1c;border-left:4px solid #c62828;"
                  "padding:0.1em 0.6em")


def _show_error(message, exc):
    text = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
    message.value = f'<div style="{_MESSAGE_STYLE}">&#9888; {html.escape(text)}</div>'


def _check_finite(values, what):
    """Raise a ValueError when `values` hold inf or nan (the sums overflowed)."""
    if not np.all(np.isfinite(values)):
        raise ValueError(f"The {what} overflows: some values are too large for a float "
                         "(above about 1.8e308). Use smaller kernel values.")


def _guarded(message, update):
    """Wrap `update` so that any error becomes a message in the widget, never an exception.

    `update` should change what the widget shows only once everything is
    computed, so that after a bad input the last valid drawing stays.
    """

    def run(*_args):
        try:
            with np.errstate(over="ignore", invalid="ignore"):
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


class _Counter:
    """A 1-based slider over a count that changes (steps, windows) in a box of its own.

    The browser side of ``IntSlider`` (noUiSlider) keeps the range it was first
    drawn with for its End key: after the count grows, End would stop at the old
    last value. So a new slider replaces the old one whenever the count changes.
    ``counter.slider`` is the current one, made by the first `set_count` (or by
    `ready`, if the first drawing failed): no slider is made only to be closed
    before the widget is shown. ``on_change`` is called with no argument.
    """

    def __init__(self, description, on_change, controls, name, css_class=""):
        self.description, self.on_change = description, on_change
        self.controls, self.name, self.css_class = controls, name, css_class
        self.box = widgets.Box()
        self.slider = None

    def _make(self, value, count):
        old, self.slider = self.slider, widgets.IntSlider(
            value=value, min=1, max=count, description=self.description)
        if self.css_class:
            self.slider.add_class(self.css_class)
        self.slider.observe(lambda _change: self.on_change(), names="value")
        self.box.children = (self.slider,)
        self.controls[self.name] = self.slider
        if old is not None:
            old.close()

    def set_count(self, count):
        """Make the slider run from 1 to `count`; return its (clamped) value."""
        if self.slider is None:
            self._make(1, count)
        elif count != self.slider.max:
            self._make(min(self.slider.value, count), count)
        return self.slider.value

    def ready(self):
        """Make sure there is a slider (1 to 1 when nothing could be drawn yet); return self."""
        if self.slider is None:
            self._make(1, 1)
        return self


class _CourseWidget(widgets.VBox):
    """A ``VBox`` whose text form says what it is, not ``VBox(children=…)``.

    Where no live kernel draws the widget (a notebook viewed on GitHub, or
    stored outputs), this text is what a reader sees.
    """

    title = ""

    def __repr__(self):
        return f"[{self.title}: interactive widget, run the cell in JupyterLab or Voilà]"

    def _repr_pretty_(self, printer, cycle):
        printer.text(repr(self))


def _assemble(children, controls, readout, message, result):
    """The widget: `children` in a box (the first one a `_title`), plus its parts."""
    box = _CourseWidget(children)
    box.title = children[0].text
    box.add_class("cifar-widget")
    box.controls = controls
    box.readout = readout
    box.message = message
    box.result = result
    return box


def _observe(update, *controls):
    """Call `update` whenever the value of one of `controls` changes."""
    for control in controls:
        control.observe(update, names="value")
