"""What does the network look at? Grad-CAM heatmaps for a Keras CNN.

Grad-CAM (Selvaraju et al., 2017, https://arxiv.org/abs/1610.02391) asks which
places in the last convolution's feature maps raise the score of a class:

1. run the image and keep the convolution's maps ``A[r, c, k]`` and the class
   score ``y`` (the softmax output for that class);
2. take the gradient ``dy / dA[r, c, k]`` (backpropagation, as in notebook 08)
   and average it over the map: one weight ``w[k]`` per map, "how much map k
   helps this class";
3. ``heatmap[r, c] = relu(sum over k of w[k] * A[r, c, k])``, scaled to [0, 1].

The heatmap has the convolution's own resolution (32 x 32 for the seed
model's last convolution); `cifar_helpers.drawing.overlay_heatmap` lays it
over the photo. The gradient comes from TensorFlow's ``GradientTape``, so this
module needs Keras' TensorFlow backend (the course's default).
"""

from __future__ import annotations

import numpy as np

from .data import unit_pixels

__all__ = ["grad_cam", "last_conv_layer_name"]


def last_conv_layer_name(model):
    """The name of the last layer of `model` whose output is a stack of feature maps.

    Raises
    ------
    ValueError
        If `model` has no convolution.
    """
    convolutions = [layer.name for layer in getattr(model, "layers", [])
                    if "Conv" in type(layer).__name__ and len(layer.output.shape) == 4]
    if not convolutions:
        names = [layer.name for layer in getattr(model, "layers", [])]
        raise ValueError(f"`model` must have a convolution layer for Grad-CAM. Its layers are "
                         f"{names}.")
    return convolutions[-1]


def _maps_and_scores(model, layer_name, batch):
    """The chosen layer's output and the model's output for `batch`, in one forward pass.

    A Sequential model runs layer by layer (its symbolic graph may be rebuilt
    when it is loaded from a file); any other model through a two-output probe.
    """
    import keras

    if isinstance(model, keras.Sequential):
        x, maps = batch, None
        for layer in model.layers:
            x = layer(x, training=False)
            if layer.name == layer_name:
                maps = x
        return maps, x
    probe = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.outputs[0]])
    return probe(batch, training=False)


def grad_cam(model, image, class_index=None, layer_name=None):
    """Grad-CAM heatmap: where in `image` the network finds evidence for a class.

    Parameters
    ----------
    model : keras.Model
        A classifier built with a known input shape, whose output is one
        probability (or score) per class.
    image : (H, W, C) uint8 ndarray, or floats in [0, 1]
        One image of the model's input size (uint8 pixels are scaled by 1/255
        first, as in training).
    class_index : int, optional
        The class to explain; default the model's top class for `image`.
    layer_name : str, optional
        The convolution whose maps are weighed; default the last one.

    Returns
    -------
    (h, w) float32 ndarray
        Values in [0, 1], at the chosen layer's resolution: 1 where the
        evidence for the class is strongest, 0 where there is none. All zeros
        when no place raises the class' score.

    Raises
    ------
    ValueError
        For an image of the wrong shape or dtype, a `class_index` outside the
        model's classes, or a `layer_name` that is not a layer of `model` with
        (N, H, W, C) output.
    RuntimeError
        When Keras runs on a backend other than TensorFlow.

    Examples
    --------
    >>> import keras
    >>> inputs = keras.Input((4, 4, 1))
    >>> maps = keras.layers.Conv2D(1, 1, kernel_initializer="ones", name="conv")(inputs)
    >>> pooled = keras.layers.GlobalAveragePooling2D()(maps)
    >>> model = keras.Model(inputs, keras.layers.Dense(1, kernel_initializer="ones")(pooled))
    >>> image = np.zeros((4, 4, 1), dtype=np.float32)
    >>> image[0, 0] = 1.0                       # one bright pixel, top left
    >>> grad_cam(model, image, class_index=0)
    array([[1., 0., 0., 0.],
           [0., 0., 0., 0.],
           [0., 0., 0., 0.],
           [0., 0., 0., 0.]], dtype=float32)
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("grad_cam needs Keras' TensorFlow backend (the course's default); "
                           f"this Keras runs on {keras.backend.backend()!r}.")
    import tensorflow as tf

    image = np.asarray(image)
    expected = tuple(model.input_shape[1:])
    if image.shape != expected:
        raise ValueError(f"`image` must be one image of shape {expected} (the model's input). "
                         f"Received shape {image.shape}.")
    batch = unit_pixels(image[np.newaxis], "image")
    if layer_name is None:
        layer_name = last_conv_layer_name(model)
    names = [layer.name for layer in model.layers]
    if layer_name not in names or len(model.get_layer(layer_name).output.shape) != 4:
        raise ValueError(f"`layer_name` must name a layer with (N, H, W, C) output. Received "
                         f"layer_name={layer_name!r}; the model's layers are {names}.")
    with tf.GradientTape() as tape:
        maps, scores = _maps_and_scores(model, layer_name, tf.constant(batch))
        num_classes = int(scores.shape[-1])
        if class_index is None:
            class_index = int(tf.argmax(scores[0]))
        elif isinstance(class_index, bool) or not isinstance(class_index, (int, np.integer)) \
                or not 0 <= class_index < num_classes:
            raise ValueError(f"`class_index` must be an int in 0..{num_classes - 1}. "
                             f"Received class_index={class_index!r}.")
        score = scores[:, int(class_index)]
    gradients = tape.gradient(score, maps)
    weights = tf.reduce_mean(gradients, axis=(1, 2))  # one weight per feature map
    heatmap = tf.nn.relu(tf.reduce_sum(maps * weights[:, tf.newaxis, tf.newaxis, :], axis=-1))
    heatmap = np.asarray(heatmap[0], dtype=np.float32)
    peak = float(heatmap.max())
    return heatmap / peak if peak > 0 else np.zeros_like(heatmap)
