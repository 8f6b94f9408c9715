"""Instructor widgets: live, clickable versions of the course's tested helpers.

Every builder returns an ipywidgets 8 widget (a ``VBox``) to display in
JupyterLab or in a Voilà page::

    from cifar_helpers import widgets
    widgets.convolution_stepper()

One module per topic: `convolution` (`convolution_stepper`), `filters`
(`filter_explorer`, `cifar_samples`), `strides` (`stride_padding_explorer`),
`pooling` (`pooling_explorer`), `activations` (`activation_explorer`) and
`model` (`prediction_explorer`, `feature_map_explorer`), all built on the
shared frame in `_frame`. The widgets only *wrap* tested pure functions: the
arithmetic lives in ``cifar_helpers.convolution``, ``windows``, ``filters``,
``pooling``, ``activations`` and ``predict``, and everything they draw in
``cifar_helpers.drawing``.

Each returned box also carries, for tests and for the curious:

``box.controls``
    dict of the interactive controls by name (sliders, dropdowns, buttons).
``box.readout``
    an ``HTML`` widget with one line of stable text (the current output value,
    output size, top-1 class…); it has the CSS class ``cifar-readout``.
``box.message``
    an ``HTML`` widget (CSS class ``cifar-message``) where a readable message
    appears when the input is bad (an empty kernel cell, a non-image upload,
    a kernel larger than the image, sums that overflow). The last valid
    drawing stays beside it, in room kept for the message (nothing moves),
    and the widget stays usable.
``box.result``
    dict with the arrays/values behind the current display.

Every widget takes its colours from JupyterLab's theme variables and its sizes
from the page's text size (`STYLE_SHEET`), so the dark theme, browser zoom and
Presentation Mode apply. The model widgets label a stand-in model's guesses
(``cifar_helpers.pretrained.is_stand_in``) as near chance.

Callbacks never raise: a bad value shows a message instead. ipywidgets is
imported only in this package; Keras and TensorFlow never at import time (the
model widgets get a model from the caller), so ``import cifar_helpers.widgets``
stays light.
"""

from __future__ import annotations

from ._frame import MAX_TABLE_SIDE, STYLE_SHEET, parse_kernel
from .activations import activation_explorer
from .convolution import convolution_stepper
from .filters import CIFAR_CREDIT, MAX_PHOTO_SIDE, cifar_samples, filter_explorer
from .learning import gradient_descent_explorer
from .model import feature_map_explorer, prediction_explorer
from .pooling import POOLING_EXAMPLE, pooling_explorer
from .strides import stride_padding_explorer

__all__ = [
    "CIFAR_CREDIT",
    "MAX_PHOTO_SIDE",
    "MAX_TABLE_SIDE",
    "POOLING_EXAMPLE",
    "STYLE_SHEET",
    "activation_explorer",
    "cifar_samples",
    "convolution_stepper",
    "feature_map_explorer",
    "filter_explorer",
    "gradient_descent_explorer",
    "parse_kernel",
    "pooling_explorer",
    "prediction_explorer",
    "stride_padding_explorer",
]
