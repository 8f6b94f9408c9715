"""Widgets around a trained model: its predictions for a photo, and its feature maps.

Keras is never imported here: the model comes from the caller, and
``cifar_helpers.predict`` runs it.
"""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from ..drawing import png_bytes, probability_bars, tile_maps, to_uint8
from ._frame import (
    _assemble,
    _fixed,
    _fmt,
    _guarded,
    _message,
    _readout,
    _row,
    _Syncing,
    _title,
)
from .filters import _credit_for, _image_sources

__all__ = ["feature_map_explorer", "prediction_explorer"]


def _upload_items(value):
    """The uploaded files of an ipywidgets 8 ``FileUpload.value`` (a tuple of dicts)."""
    if isinstance(value, dict):  # ipywidgets 7 used {name: {...}}
        value = tuple(value.values())
    return list(value or ())


def _upload_name(item):
    """The file name of one upload, without any folder."""
    return Path(str(item.get("name") or "upload")).name or "upload"


def _load_upload(item):
    """The 32×32 RGB pixels of one uploaded file, read by ``cifar_helpers.photos.load_image``.

    Raises
    ------
    ImageLoadError
        A ValueError naming the file: it is empty, not an image, or damaged.
    """
    from ..photos import ImageLoadError, load_image

    try:
        return load_image(bytes(item.get("content") or b""))
    except ImageLoadError as exc:
        raise ImageLoadError(f"{_upload_name(item)}: {exc}") from None


def _check_model(model):
    """Raise a TypeError unless `model` looks like a Keras model (it has layers and predicts)."""
    if not (callable(getattr(model, "predict", None)) and hasattr(model, "layers")
            and hasattr(model, "input_shape")):
        shown = "model=None" if model is None else f"model of type {type(model).__name__}"
        raise TypeError("`model` must be a trained Keras model, e.g. "
                        "cifar_helpers.pretrained.load_or_train_seed_model(). "
                        f"Received {shown}.")


#: Inline style of the stand-in's label: its own background and text colour, for any theme.
_STAND_IN_STYLE = ("background:#fff4e5;color:#663c00;border-left:4px solid #ed6c02;"
                   "padding:0.1em 0.6em;margin:0.2em 0")


def _stand_in_label(model):
    """The HTML label of a stand-in model's predictions, or "" for a trained model."""
    from ..pretrained import STAND_IN_NOTE, is_stand_in

    if not is_stand_in(model):
        return ""
    return f'<div class="cifar-stand-in" style="{_STAND_IN_STYLE}">&#9888; {STAND_IN_NOTE}</div>'


def prediction_explorer(model):
    """Pick a sample photo or upload one; shows the 32×32 input and the top-k probabilities.

    Parameters
    ----------
    model : keras.Model
        A CIFAR-10 classifier taking (N, 32, 32, 3) inputs scaled to [0, 1],
        e.g. ``cifar_helpers.pretrained.load_or_train_seed_model()``.

    Returns
    -------
    ipywidgets.VBox
        ``box.readout`` reads e.g. ``truck_1.jpg → truck (87.3%)``;
        ``box.result["top"]`` is ``predict_image(model, image, top_k)`` and
        ``box.result["heatmap"]`` the Grad-CAM of the top guess
        (`cifar_helpers.interpret.grad_cam`), shown over the input. An
        uploaded photo joins the sample list as ``"uploaded: <file name>"``.
        A stand-in model's predictions (`cifar_helpers.pretrained.is_stand_in`)
        carry a label saying they are near chance.

    Raises
    ------
    TypeError
        If `model` is not a Keras model (None, a path, a string...).
    """
    _check_model(model)
    from ..data import CLASS_NAMES
    from ..interpret import grad_cam
    from ..photos import load_image
    from ..plotting import overlay_heatmap
    from ..predict import predict_image

    stand_in = _stand_in_label(model)
    sources = _image_sources(None, load_image)
    names = {}  # dropdown entry -> (name shown in the readout, credit line)
    sample = widgets.Dropdown(options=list(sources), description="sample")
    upload = widgets.FileUpload(accept="image/*", multiple=False, description="Upload photo")
    top_k = widgets.IntSlider(value=3, min=1, max=10, description="top_k")
    picture = _fixed(widgets.Image(format="png", layout=widgets.Layout(width="13.7em",
                                                                       height="13.7em")))
    looks = _fixed(widgets.Image(format="png", layout=widgets.Layout(width="13.7em",
                                                                     height="13.7em")))
    heatmaps = {}  # (entry, class) -> Grad-CAM heatmap
    bars = widgets.HTML()
    label = widgets.HTML(stand_in)
    credit_line = widgets.HTML()
    readout, message = _readout(), _message()
    result = {}
    cache = {}
    syncing = _Syncing()

    def show():
        entry = sample.value
        if entry not in cache:
            cache[entry] = sources[entry]()
        name, credit_text = names.get(entry, (entry, _credit_for(entry)))
        image = cache[entry]
        top = predict_image(model, image, top_k=top_k.value)
        picture.value = png_bytes(to_uint8(image), scale=6)
        best_class = CLASS_NAMES.index(top[0][0]) if top[0][0] in CLASS_NAMES else 0
        heatmap = heatmaps.get((entry, best_class))
        if heatmap is None and np.shape(image) == tuple(model.input_shape[1:]):
            heatmap = heatmaps[entry, best_class] = grad_cam(model, image, best_class)
        if heatmap is not None:
            looks.value = png_bytes(overlay_heatmap(to_uint8(image), heatmap), scale=6)
        bars.value = probability_bars(top)
        credit_line.value = f"<small>{credit_text}</small>"
        result.update(name=name, image=image, top=top, heatmap=heatmap)
        best, probability = top[0]
        readout.value = (f"{html.escape(name)} → {html.escape(best)} ({probability * 100:.1f}%)"
                         + (" · stand-in model: near chance" if stand_in else ""))

    def from_upload():
        items = _upload_items(upload.value)
        if not items:
            return
        item = items[-1]
        try:
            image = _load_upload(item)
        finally:
            upload.value = ()  # so that the same file can be uploaded again
        name = _upload_name(item)
        entry = f"uploaded: {name}"
        for old in [key for key in names if key != entry]:  # one upload at a time in the list
            sources.pop(old)
            cache.pop(old, None)
            names.pop(old)
        sources[entry], cache[entry], names[entry] = None, image, (name, "your photo")
        with syncing:
            sample.options = [entry, *(key for key in sources if key != entry)]
            sample.value = entry
        show()

    def on_sample(_change):
        if not syncing.on:
            guarded_show()

    guarded_show = _guarded(message, show)
    sample.observe(on_sample, names="value")
    upload.observe(_guarded(message, from_upload), names="value")
    top_k.observe(guarded_show, names="value")
    guarded_show()
    controls = dict(sample=sample, upload=upload, top_k=top_k)
    return _assemble(
        [
            _title("What does the network say?",
                   "Choose a sample photo or upload your own; the network sees only 32×32 "
                   "pixels."),
            _row(sample, upload, top_k),
            label,
            _row(_fixed(widgets.VBox([widgets.HTML("<b>the 32×32 input</b>"), picture])),
                 _fixed(widgets.VBox([widgets.HTML("<b>where it looks (Grad-CAM)</b>"), looks])),
                 widgets.VBox([widgets.HTML("<b>top-k probabilities</b>"), bars])),
            credit_line, readout, message,
        ],
        controls, readout, message, result,
    )


def feature_map_explorer(model, images=None):
    """Choose an image and a layer; shows that layer's feature maps.

    Parameters
    ----------
    model : keras.Model
        A CIFAR-10 CNN taking (N, 32, 32, 3) inputs scaled to [0, 1].
    images : dict or sequence, optional
        ``{name: (32, 32, 3) uint8 array or path}``. Default: the course photos,
        shrunk to the model's input size with ``cifar_helpers.photos.load_image``.

    Returns
    -------
    ipywidgets.VBox
        ``box.result["maps"]`` is the chosen layer's output for the chosen image,
        from ``cifar_helpers.predict.layer_outputs``. A stand-in model
        (`cifar_helpers.pretrained.is_stand_in`) is labelled as such.

    Raises
    ------
    TypeError
        If `model` is not a Keras model (None, a path, a string...).
    """
    _check_model(model)
    from ..photos import load_image
    from ..predict import layer_outputs

    stand_in = _stand_in_label(model)
    try:
        expected = tuple(int(n) for n in model.input_shape[1:])
    except (AttributeError, TypeError, ValueError):
        expected = (32, 32, 3)
    sources = _image_sources(images, lambda path: load_image(path, size=expected[:2]))
    image_choice = widgets.Dropdown(options=list(sources), description="image")
    layer_choice = widgets.Dropdown(options=[], description="layer")
    picture = _fixed(widgets.Image(format="png", layout=widgets.Layout(width="9.2em",
                                                                       height="9.2em")))
    maps_picture = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
    readout, message = _readout(), _message()
    result = {}
    cache = {}
    syncing = _Syncing()

    def activations_of(name):
        """(image, {layer name: (H, W, C) maps}) for the image called `name`."""
        if name not in cache:
            image = np.asarray(sources[name]())
            if image.shape != expected or image.dtype != np.uint8:
                raise ValueError(
                    f"The network expects a {'×'.join(map(str, expected))} uint8 image. "
                    f"Received {name!r}, {image.dtype} of shape {image.shape}."
                )
            cache[name] = (image, layer_outputs(model, image))
        return cache[name]

    def set_layers():
        _, outputs = activations_of(image_choice.value)
        if not outputs:
            raise ValueError("This model has no layer with (H, W, C) feature maps.")
        with syncing:
            layer_choice.options = list(outputs)
            layer_choice.value = layer_choice.options[0]

    def redraw():
        if not layer_choice.options:
            set_layers()
        image, outputs = activations_of(image_choice.value)
        name = layer_choice.value
        maps = np.asarray(outputs[name])
        picture.value = png_bytes(to_uint8(image), scale=4)
        maps_picture.value = png_bytes(tile_maps(maps))
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
            _row(image_choice, layer_choice),
            widgets.HTML(stand_in),
            _row(_fixed(widgets.VBox([widgets.HTML("<b>input</b>"), picture])),
                 widgets.VBox([widgets.HTML("<b>feature maps</b>"), maps_picture],
                              layout=widgets.Layout(flex="1 1 20em", min_width="0"))),
            readout, message,
        ],
        dict(image=image_choice, layer=layer_choice), readout, message, result,
    )
