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


# -- the parts of every widget -----------------------------------------------------------------
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
    """The widget: `children` in a bordered box (the first one a `_title`), plus its parts."""
    box = _CourseWidget(children, layout=widgets.Layout(border="1px solid #ddd", padding="6px"))
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
