"""Instructor widgets: controls changed programmatically give the helpers' numbers."""

import io
import subprocess
import sys
from pathlib import Path

import ipywidgets
import numpy as np
import pytest
from PIL import Image

from cifar_helpers import widgets
from cifar_helpers.activations import relu, sigmoid, tanh
from cifar_helpers.convolution import conv2d
from cifar_helpers.drawing import format_number
from cifar_helpers.examples import SEED_IMAGE, SEED_KERNEL, STRIDE_GRID
from cifar_helpers.filters import FILTERS, apply_filter
from cifar_helpers.pooling import pool2d
from cifar_helpers.windows import output_size

RNG = np.random.default_rng(0)
SMALL_RGB = RNG.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
WIDGET_MODULES = sorted((Path(widgets.__file__).parent).glob("*.py"))


def visit_every_step(box, slider="step"):
    """Click "Next" through every step; return the readouts and results seen."""
    control = box.controls[slider]
    control.value = 1
    seen = []
    for _ in range(control.max):
        seen.append(dict(box.result))
        box.controls["next"].click()
    return seen


def assert_message(box, *words):
    assert box.message.value, "expected a message in the widget"
    for word in words:
        assert word in box.message.value


def png_pixels(data):
    return np.asarray(Image.open(io.BytesIO(data)))


# -- the package ---------------------------------------------------------------------------
@pytest.mark.parametrize("path", WIDGET_MODULES, ids=lambda path: path.name)
def test_each_widget_module_reads_in_one_sitting(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 400, f"{path.name} has {lines} lines; split it (at most 400)"


def test_one_module_per_topic_and_every_builder_exported():
    names = {path.stem for path in WIDGET_MODULES}
    assert names >= {"__init__", "_frame", "activations", "convolution", "filters", "model",
                     "pooling", "strides"}
    for name in widgets.__all__:
        assert getattr(widgets, name) is not None


def test_importing_the_widgets_stays_light():
    code = ("import sys, cifar_helpers.widgets, cifar_helpers.drawing; "
            "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


# -- parse_kernel ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 0 1; 0 1 0; 1 0 1", SEED_KERNEL),
        ("1, 2\n3, 4", [[1, 2], [3, 4]]),
        ("−1 0.5", [[-1, 0.5]]),
    ],
)
def test_parse_kernel(text, expected):
    np.testing.assert_array_equal(widgets.parse_kernel(text), np.asarray(expected, dtype=float))


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "kernel is empty"),
        ("1 2; 3", "same number of values"),
        ("1 x", r"row 1, column 2\) must hold a number. Received 'x'"),
        ("1 nan", "finite"),
    ],
)
def test_parse_kernel_errors(text, match):
    with pytest.raises(ValueError, match=match):
        widgets.parse_kernel(text)


# -- every builder returns an ipywidgets widget ------------------------------------------------
@pytest.mark.parametrize(
    "build",
    [
        widgets.convolution_stepper,
        widgets.stride_padding_explorer,
        widgets.pooling_explorer,
        lambda: widgets.activation_explorer(RNG.normal(size=(10, 10))),
        lambda: widgets.filter_explorer({"noise": SMALL_RGB}),
    ],
)
def test_builders_return_widgets(build):
    box = build()
    assert isinstance(box, ipywidgets.VBox)
    assert box.message.value == ""
    assert box.readout.value
    assert "cifar-readout" in box.readout._dom_classes
    # where no kernel draws it (GitHub, stored outputs) the text says what it is
    text = box._repr_mimebundle_()["text/plain"]
    assert text.endswith("interactive widget, run the cell in JupyterLab or Voilà]")
    assert "children=" not in text


# -- convolution stepper -----------------------------------------------------------------------
def test_stepper_starts_on_the_tutorial_example():
    box = widgets.convolution_stepper()
    assert box.readout.value.startswith("step 1 of 9: output[0, 0] = 4")
    assert "1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = <b>4</b>" in (
        box.children[5].value
    )


@pytest.mark.parametrize("strides", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same", 1, 2])
def test_stepper_steps_through_conv2d(strides, padding):
    box = widgets.convolution_stepper()
    box.controls["image"].value = "stride example 8×7"
    box.controls["strides"].value = strides
    box.controls["padding"].value = padding
    expected = conv2d(STRIDE_GRID, SEED_KERNEL, strides=strides, padding=padding)
    assert box.controls["step"].max == expected.size
    seen = visit_every_step(box)
    values = [state["value"] for state in seen]
    np.testing.assert_array_equal(values, expected.ravel())
    for state in seen:  # the products shown add up to the output cell
        assert state["products"].sum() == state["value"]
    assert box.message.value == ""


def test_stepper_buttons_stay_in_range():
    box = widgets.convolution_stepper()
    box.controls["previous"].click()
    assert box.controls["step"].value == 1
    box.controls["last"].click()
    assert box.readout.value.startswith("step 9 of 9: output[2, 2] = 4")
    box.controls["next"].click()
    assert box.controls["step"].value == 9
    box.controls["step"].value = 4
    assert box.readout.value.startswith("step 4 of 9: output[1, 0] = 2")


@pytest.mark.parametrize("name", list(FILTERS))
def test_stepper_named_kernels(name):
    box = widgets.convolution_stepper()
    box.controls["kernel"].value = name
    np.testing.assert_array_equal(box.result["output"], conv2d(SEED_IMAGE, FILTERS[name]))
    np.testing.assert_array_equal(box.result["kernel"], FILTERS[name])


def test_stepper_typed_kernel_becomes_custom():
    box = widgets.convolution_stepper()
    box.controls["kernel_values"].value = "1 2; 3 4"
    assert box.controls["kernel"].value == "custom"
    expected = conv2d(SEED_IMAGE, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(box.result["output"], expected)
    assert box.readout.value.startswith(f"step 1 of 16: output[0, 0] = {expected[0, 0]:.0f}")


@pytest.mark.parametrize(
    "text, words",
    [
        ("", ["kernel is empty"]),
        ("1 0 1; 0 x 0; 1 0 1", ["row 2, column 2", "&#x27;x&#x27;"]),
        ("1 0; 1", ["same number of values"]),
        ("; ".join(["1 1 1 1 1 1"] * 6), ["kernel is larger than the padded input"]),
    ],
)
def test_stepper_bad_kernel_shows_a_message_and_recovers(text, words):
    box = widgets.convolution_stepper()
    box.controls["kernel_values"].value = text
    assert_message(box, *words)
    box.controls["kernel"].value = "tutorial kernel"
    assert box.message.value == ""
    assert box.readout.value.startswith("step 1 of 9: output[0, 0] = 4")


def test_stepper_stride_example_known_answer():
    box = widgets.convolution_stepper()
    box.controls["image"].value = "stride example 8×7"
    box.controls["kernel_values"].value = "1 1 1; 1 1 1; 1 1 1"
    box.controls["strides"].value = 2
    np.testing.assert_array_equal(box.result["output"],
                                  [[108, 126, 144], [288, 306, 324], [468, 486, 504]])
    box.controls["next"].click()
    assert box.readout.value.startswith("step 2 of 9: output[0, 1] = 126")


def test_stepper_your_image_and_kernel_come_first():
    image = np.arange(16).reshape(4, 4)
    box = widgets.convolution_stepper(image, [[1, -1]])
    assert box.controls["image"].value == "your image"
    assert box.controls["kernel"].value == "your kernel"
    np.testing.assert_array_equal(box.result["output"], conv2d(image, [[1, -1]]))
    box.controls["image"].value = "tutorial 5×5 image"
    np.testing.assert_array_equal(box.result["output"], conv2d(SEED_IMAGE, [[1, -1]]))


def test_stepper_big_kernel_fits_with_padding():
    box = widgets.convolution_stepper(np.ones((2, 2)), np.ones((3, 3)))
    assert_message(box, "kernel is larger")
    box.controls["padding"].value = "same"
    assert box.message.value == ""
    np.testing.assert_array_equal(box.result["output"], [[4, 4], [4, 4]])


@pytest.mark.parametrize(
    "image, match",
    [
        (np.ones((3, 3, 3)), r"must have shape \(rows, cols\)"),
        (np.ones((30, 30)), "at most 20×20"),
        ([[1, np.nan]], "finite"),
        ("abc", "array of real numbers"),
    ],
)
def test_stepper_rejects_bad_images(image, match):
    with pytest.raises(ValueError, match=match):
        widgets.convolution_stepper(image)


# -- strides and padding -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "size, kernel_size, strides, padding",
    [(7, 3, 2, "valid"), (8, 3, 2, "same"), (5, 2, 1, "same"), (7, 3, 3, 1), (12, 7, 4, 3),
     (3, 1, 1, "valid")],
)
def test_stride_padding_agrees_with_output_size(size, kernel_size, strides, padding):
    box = widgets.stride_padding_explorer()
    controls = box.controls
    controls["size"].value = size
    controls["kernel_size"].value = kernel_size
    controls["strides"].value = strides
    controls["padding"].value = padding
    expected = output_size(size, kernel_size, strides, padding)
    assert box.result["output_size"] == expected
    assert f"→ {expected}×{expected} (output_size gives {expected})" in box.readout.value
    assert controls["window"].max == expected**2
    controls["window"].value = expected**2  # the last window ends inside the padded input
    before, after = box.result["pads"]
    last_row = (expected - 1) * strides + kernel_size - 1
    assert last_row < size + before + after
    assert f"rows {(expected - 1) * strides}–{last_row}" in box.readout.value
    assert png_pixels(box.children[1].children[1].children[0].value).ndim == 3


def test_stride_padding_formula_text():
    box = widgets.stride_padding_explorer()
    assert box.readout.value.startswith("output size: ⌊(7 + 2·0 − 3) / 2⌋ + 1 = 3 → 3×3")
    box.controls["padding"].value = "same"
    assert box.readout.value.startswith("output size: ⌈7 / 2⌉ = 4 → 4×4")


def test_stride_padding_kernel_too_big_recovers():
    box = widgets.stride_padding_explorer()
    box.controls["size"].value = 4
    before = box.readout.value, box.children[1].children[1].children[0].value
    box.controls["kernel_size"].value = 6
    assert_message(box, "kernel is larger than the padded input")
    # the last valid drawing stays, beside the message
    assert (box.readout.value, box.children[1].children[1].children[0].value) == before
    box.controls["padding"].value = 1
    assert box.message.value == ""
    assert box.result["output_size"] == output_size(4, 6, 2, 1)


# -- pooling -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["max", "average", "sum"])
@pytest.mark.parametrize("pool_size, strides", [(2, 0), (3, 1), (2, 3), (4, 2)])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pooling_matches_pool2d(mode, pool_size, strides, padding):
    box = widgets.pooling_explorer()
    box.controls["mode"].value = mode
    box.controls["pool_size"].value = pool_size
    box.controls["strides"].value = strides
    box.controls["padding"].value = padding
    expected = pool2d(widgets.POOLING_EXAMPLE, pool_size, strides or None, padding, mode)
    np.testing.assert_array_equal(box.result["output"], expected)
    window = box.controls["window"]
    assert window.max == expected.size
    for k in range(1, expected.size + 1):
        window.value = k
        i, j = divmod(k - 1, expected.shape[1])
        assert box.result["value"] == expected[i, j]
        reduce = {"max": np.max, "average": np.mean, "sum": np.sum}[mode]
        assert reduce(box.result["window"]) == pytest.approx(expected[i, j])
    assert f"output[{i}, {j}] = {format_number(expected[i, j])}" in box.readout.value


def test_pooling_readout_and_arithmetic():
    box = widgets.pooling_explorer()
    assert box.controls["strides"].label == "= pool_size"  # strides=None, shown, not blank
    assert box.readout.value == ("max pooling, pool_size 2, strides 2, padding 'valid': "
                                 "6×6 → 3×3; output[0, 0] = 6")
    box.controls["mode"].value = "sum"
    assert "sum(1, 3, 4, 6) = <b>14</b>" in box.children[6].value


def test_pooling_channels_and_big_maps():
    maps = RNG.normal(size=(40, 40, 3))
    box = widgets.pooling_explorer(maps)
    box.controls["channel"].value = 2
    np.testing.assert_array_equal(box.result["output"], pool2d(maps[..., 2]))
    assert box.children[4].value == ""  # no table for a 40×40 map: a picture instead
    assert png_pixels(box.children[5].value).shape[2] == 3


def test_pooling_too_big_window_recovers():
    box = widgets.pooling_explorer(np.arange(9).reshape(3, 3))
    box.controls["pool_size"].value = 4
    assert_message(box, "must fit inside the feature map")
    box.controls["padding"].value = "same"
    assert box.message.value == ""
    np.testing.assert_array_equal(box.result["output"], [[8.0]])


@pytest.mark.parametrize(
    "feature_map, match",
    [(np.ones((2, 2, 2, 2)), r"\(H, W\) or \(H, W, C\)"), ("abc", "array of real numbers")],
)
def test_pooling_rejects_bad_maps(feature_map, match):
    with pytest.raises(ValueError, match=match):
        widgets.pooling_explorer(feature_map)


# -- activations -------------------------------------------------------------------------------
@pytest.mark.parametrize("name, function", [("relu", relu), ("tanh", tanh),
                                            ("sigmoid", sigmoid)])
def test_activation_matches_helpers(name, function):
    feature_map = RNG.normal(size=(9, 11))
    box = widgets.activation_explorer(feature_map)
    box.controls["activation"].value = name
    np.testing.assert_allclose(box.result["after"], function(feature_map))
    after = function(feature_map)
    assert f"after {name}: min {format_number(after.min())}, max {format_number(after.max())}" in (
        box.readout.value
    )


def test_activation_counts_zeroed_values():
    box = widgets.activation_explorer(np.array([[-2.0, -1.0], [0.0, 3.0]]))
    assert box.readout.value.endswith("50.0% of the values set to 0")
    assert "before: min -2, max 3, mean 0" in box.readout.value


def test_activation_default_map_is_signed():
    box = widgets.activation_explorer()
    before = box.result["before"]
    assert before.min() < 0 < before.max()
    np.testing.assert_array_equal(box.result["after"], relu(before))


@pytest.mark.parametrize("feature_map, match", [(np.ones((2, 2, 2)), r"\(H, W\)"),
                                                (object(), "array of real numbers")])
def test_activation_rejects_bad_maps(feature_map, match):
    with pytest.raises(ValueError, match=match):
        widgets.activation_explorer(feature_map)


# -- filter explorer ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(FILTERS))
def test_filter_explorer_named_filters(name):
    box = widgets.filter_explorer({"noise": SMALL_RGB})
    box.controls["filter"].value = name
    np.testing.assert_array_equal(box.result["output"], apply_filter(SMALL_RGB, FILTERS[name]))
    cells = [float(cell.value) for cell in box.controls["cells"]]
    np.testing.assert_allclose(cells, FILTERS[name].ravel(), atol=5e-4)
    shown = png_pixels(box.children[3].children[1].children[1].value)
    assert shown.shape == (12 * 16, 16 * 16, 3)  # small images are shown enlarged
    np.testing.assert_array_equal(shown[::16, ::16], apply_filter(SMALL_RGB, FILTERS[name]))


def test_filter_explorer_typed_kernel_and_display():
    grey = SMALL_RGB[..., 0]
    box = widgets.filter_explorer([grey, SMALL_RGB])
    box.controls["cells"][0].value = "2"
    assert box.controls["filter"].value == "custom"
    kernel = FILTERS["identity"].copy()
    kernel[0, 0] = 2
    np.testing.assert_array_equal(box.result["output"], apply_filter(grey, kernel))
    box.controls["display"].value = "minmax"
    np.testing.assert_array_equal(box.result["output"],
                                  apply_filter(grey, kernel, normalize="minmax"))
    box.controls["photo"].value = "image 2"
    np.testing.assert_array_equal(box.result["output"],
                                  apply_filter(SMALL_RGB, kernel, normalize="minmax"))


@pytest.mark.parametrize("text, words", [("", ["row 2, column 3", "is empty"]),
                                         ("abc", ["row 2, column 3", "must hold a number"])])
def test_filter_explorer_bad_cell_recovers(text, words):
    box = widgets.filter_explorer({"noise": SMALL_RGB})
    box.controls["cells"][5].value = text
    assert_message(box, *words)
    box.controls["cells"][5].value = "-1"
    assert box.message.value == ""
    box.controls["filter"].value = "sharpen"
    np.testing.assert_array_equal(box.result["output"], apply_filter(SMALL_RGB, "sharpen"))


def test_filter_explorer_course_photos_have_credits():
    box = widgets.filter_explorer()
    assert box.message.value == ""
    assert max(box.result["image"].shape[:2]) <= widgets.MAX_PHOTO_SIDE
    assert "CC0" in box.children[-4].value or "public domain" in box.children[-4].value


def test_cifar_samples_one_per_class(cifar10_dir, monkeypatch):
    from cifar_helpers.data import CLASS_NAMES, load_batch

    monkeypatch.setenv("CIFAR10_DIR", str(cifar10_dir))
    monkeypatch.setattr(widgets.filters, "_CIFAR_CACHE", {})
    samples = widgets.cifar_samples()
    assert [name.split()[1] for name in samples] == list(CLASS_NAMES)
    images, labels = load_batch(cifar10_dir / "test_batch")
    for name, image in samples.items():
        index = int(name.rsplit("#", 1)[1].rstrip(")"))
        np.testing.assert_array_equal(image, images[index])
        assert CLASS_NAMES[labels[index]] in name
    box = widgets.filter_explorer()
    first = next(iter(samples))
    box.controls["photo"].value = first
    np.testing.assert_array_equal(box.result["output"], samples[first])  # identity filter
    assert widgets.CIFAR_CREDIT in box.children[-4].value


def test_cifar_samples_without_a_local_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path))  # a folder without test_batch
    monkeypatch.setattr(widgets.filters, "_CIFAR_CACHE", {})
    assert widgets.cifar_samples() == {}
    box = widgets.filter_explorer()
    assert not any(name.startswith("CIFAR-10") for name in box.controls["photo"].options)


@pytest.mark.parametrize("images, match", [([], "at least one image"),
                                           ({"x": np.ones(5)}, r"\(H, W\) or \(H, W, 3\)")])
def test_filter_explorer_rejects_bad_images(images, match):
    with pytest.raises(ValueError, match=match):
        widgets.filter_explorer(images)


# -- prediction and feature maps (a tiny stand-in Keras model) ---------------------------------
@pytest.fixture(scope="module")
def tiny_model():
    from cifar_helpers.notebook import quiet_tensorflow

    keras = quiet_tensorflow()
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv"),
            keras.layers.MaxPooling2D(name="pool"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(10, activation="softmax", name="dense"),
        ],
        name="tiny",
    )


def upload_value(name, content):
    import datetime

    return ({"name": name, "type": "", "size": len(content), "content": memoryview(content),
             "last_modified": datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)},)


def png_bytes(shape=(40, 50, 3), seed=1):
    pixels = np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["truck_1.jpg", "cat_2.png"])
def test_prediction_explorer_samples(tiny_model, name):
    from cifar_helpers.photos import photo_path
    from cifar_helpers.predict import predict_image

    box = widgets.prediction_explorer(tiny_model)
    assert isinstance(box, ipywidgets.VBox)
    box.controls["sample"].value = name
    expected = predict_image(tiny_model, photo_path(name), top_k=3)
    assert [c for c, _ in box.result["top"]] == [c for c, _ in expected]
    np.testing.assert_allclose([p for _, p in box.result["top"]], [p for _, p in expected],
                               rtol=1e-5)
    best, probability = expected[0]
    assert box.readout.value == f"{name} → {best} ({probability * 100:.1f}%)"
    assert box.result["image"].shape == (32, 32, 3)
    assert png_pixels(box.children[3].children[0].children[1].value).shape == (192, 192, 3)
    box.controls["top_k"].value = 10
    assert len(box.result["top"]) == 10
    assert sum(p for _, p in box.result["top"]) == pytest.approx(1.0, abs=1e-5)


def test_prediction_explorer_shows_grad_cam_of_the_top_guess(tiny_model):
    from cifar_helpers.data import CLASS_NAMES
    from cifar_helpers.interpret import grad_cam

    box = widgets.prediction_explorer(tiny_model)
    box.controls["sample"].value = "truck_1.jpg"
    heatmap = box.result["heatmap"]
    best = CLASS_NAMES.index(box.result["top"][0][0])
    np.testing.assert_allclose(heatmap, grad_cam(tiny_model, box.result["image"], best),
                               atol=1e-6)
    assert heatmap.shape == (32, 32) and 0.0 <= heatmap.min() and heatmap.max() <= 1.0
    overlay = png_pixels(box.children[3].children[1].children[1].value)
    assert overlay.shape == (192, 192, 3)
    box.controls["upload"].value = upload_value("mine.png", png_bytes())
    assert box.result["heatmap"].shape == (32, 32)  # an upload gets its heatmap too


def test_prediction_explorer_upload(tiny_model, tmp_path):
    from cifar_helpers.photos import load_image
    from cifar_helpers.predict import predict_image

    box = widgets.prediction_explorer(tiny_model)
    content = png_bytes()
    box.controls["upload"].value = upload_value("my photo.png", content)
    assert box.message.value == ""
    assert box.controls["upload"].value == ()  # ready for the next upload
    path = tmp_path / "my photo.png"
    path.write_bytes(content)
    np.testing.assert_array_equal(box.result["image"], load_image(path))
    expected = predict_image(tiny_model, path)
    assert box.readout.value == f"my photo.png → {expected[0][0]} ({expected[0][1] * 100:.1f}%)"


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("notes.txt", b"this is not a photo", ["notes.txt", "not an image"]),
        ("empty.jpg", b"", ["empty.jpg", "is empty"]),
        ("broken.png", png_bytes()[:60], ["broken.png"]),
    ],
)
def test_prediction_explorer_bad_upload_recovers(tiny_model, name, content, words):
    box = widgets.prediction_explorer(tiny_model)
    box.controls["upload"].value = upload_value(name, content)
    assert_message(box, *words)
    box.controls["sample"].value = "frog_1.jpg"
    assert box.message.value == ""
    assert box.readout.value.startswith("frog_1.jpg → ")
    box.controls["upload"].value = upload_value("good.png", png_bytes())
    assert box.message.value == "" and box.readout.value.startswith("good.png → ")


@pytest.mark.parametrize("build", [widgets.prediction_explorer, widgets.feature_map_explorer])
@pytest.mark.parametrize("model, received", [(None, "model=None"),
                                             ("not a model", "model of type str")])
def test_model_widgets_need_a_model(build, model, received):
    with pytest.raises(TypeError, match=f"`model` must be a trained Keras model.*{received}"):
        build(model)


def test_feature_map_explorer_matches_keras(tiny_model):
    import keras

    from cifar_helpers.data import scale_pixels

    images = {"noise": RNG.integers(0, 256, size=(32, 32, 3), dtype=np.uint8),
              "zeros": np.zeros((32, 32, 3), np.uint8)}
    box = widgets.feature_map_explorer(tiny_model, images)
    assert list(box.controls["layer"].options) == ["conv", "pool"]
    assert box.controls["layer"].value == "conv"
    for layer in ("conv", "pool"):
        box.controls["layer"].value = layer
        probe = keras.Model(tiny_model.inputs[0], tiny_model.get_layer(layer).output)
        expected = np.asarray(probe(scale_pixels(images["noise"])[np.newaxis]))[0]
        np.testing.assert_allclose(box.result["maps"], expected, rtol=1e-5, atol=1e-6)
        h, w, c = expected.shape
        assert f"noise, layer {layer}: {h}×{w}×{c} feature maps" in box.readout.value
    box.controls["image"].value = "zeros"
    assert box.result["layer"] == "pool" and box.message.value == ""


def test_feature_map_explorer_course_photos_and_bad_images(tiny_model):
    box = widgets.feature_map_explorer(tiny_model)
    assert box.readout.value.startswith("airplane_1.jpg, layer conv: 32×32×4 feature maps")
    box = widgets.feature_map_explorer(tiny_model, {"small": np.zeros((8, 8, 3), np.uint8)})
    assert_message(box, "expects a 32×32×3 uint8 image", "(8, 8, 3)")


# -- in front of a class: bad input keeps the drawing, ranges follow, stand-ins say so ------------
@pytest.mark.parametrize("text, words", [("1 0 1; 0 x 0; 1 0 1", ["row 2, column 2"]),
                                         ("1e308 1e308; 1e308 1e308", ["overflows"])])
def test_stepper_bad_kernel_keeps_the_last_drawing(text, words):
    box = widgets.convolution_stepper()
    box.controls["next"].click()
    shown = (box.children[4].value, box.children[5].value, box.readout.value)
    box.controls["kernel_values"].value = text
    assert_message(box, *words)
    assert (box.children[4].value, box.children[5].value, box.readout.value) == shown
    box.controls["next"].click()  # stepping on while the kernel is bad keeps the message
    assert_message(box, *words)
    box.controls["kernel_values"].value = "1 0 1; 0 1 0; 1 0 1"
    assert box.message.value == ""


def test_filter_explorer_overflowing_kernel_shows_a_message():
    box = widgets.filter_explorer({"noise": SMALL_RGB})
    shown = box.children[3].children[1].children[1].value
    box.controls["cells"][4].value = "1e308"
    assert_message(box, "overflows")
    assert box.children[3].children[1].children[1].value == shown


@pytest.mark.parametrize("build, name, change, last", [
    (widgets.stride_padding_explorer, "window", ("padding", "same"), "window 16 of 16"),
    (widgets.convolution_stepper, "step", ("padding", "same"), "step 25 of 25"),
    (widgets.pooling_explorer, "window", ("pool_size", 1), "output[5, 5]"),
])
def test_a_new_slider_when_the_count_changes(build, name, change, last):
    """The browser's slider keeps its first range for its End key, so the count gets a new one."""
    box = build()
    old = box.controls[name]
    box.controls[change[0]].value = change[1]
    new = box.controls[name]
    assert new is not old and new.max > old.max
    assert any(new in child.children for child in _boxes(box))
    assert not any(old in child.children for child in _boxes(box))
    new.value = new.max
    assert last in box.readout.value and box.message.value == ""


def _boxes(widget):
    """Every container inside `widget`."""
    found = []
    for child in getattr(widget, "children", ()):
        if isinstance(child, ipywidgets.Box):
            found += [child, *_boxes(child)]
    return found


def _html_of(widget):
    """The HTML text of every HTML widget inside `widget`."""
    texts = [widget.value] if isinstance(widget, ipywidgets.HTML) else []
    for child in getattr(widget, "children", ()):
        texts += _html_of(child)
    return texts


@pytest.mark.parametrize("build", [
    widgets.convolution_stepper, widgets.stride_padding_explorer, widgets.pooling_explorer,
    lambda: widgets.activation_explorer(RNG.normal(size=(10, 10))),
    lambda: widgets.filter_explorer({"noise": SMALL_RGB}),
])
def test_widgets_follow_the_theme_and_the_text_size(build):
    """No fixed font size or fixed grey: colours are theme variables, sizes relative."""
    box = build()
    text = "".join(_html_of(box))
    assert widgets.STYLE_SHEET in text
    assert not __import__("re").search(r"font-size:\s*\d+px", text)
    assert "#555" not in text and "color:white" not in text


def test_course_widgets_print_their_placeholder():
    from IPython.lib.pretty import pretty

    box = widgets.pooling_explorer()
    assert pretty(box) == repr(box) == ("[Pooling: interactive widget, run the cell in "
                                        "JupyterLab or Voilà]")


def test_activation_explorer_draws_each_activation_once(monkeypatch):
    module = sys.modules["cifar_helpers.widgets.activations"]
    drawn = []
    original = module.activation_picture
    monkeypatch.setattr(module, "activation_picture",
                        lambda values: drawn.append(values) or original(values))
    box = widgets.activation_explorer(RNG.normal(size=(12, 12)))
    pictures = {}
    for name in ["tanh", "sigmoid", "relu", "tanh", "relu"]:
        box.controls["activation"].value = name
        pictures.setdefault(name, bytes(box.children[2].children[1].children[1].value))
        assert bytes(box.children[2].children[1].children[1].value) == pictures[name]
    assert len(drawn) == 4  # the map before, and each activation once
    assert len(set(pictures.values())) == 3


def test_prediction_explorer_names_the_upload_in_the_sample_list(tiny_model):
    box = widgets.prediction_explorer(tiny_model)
    box.controls["sample"].value = "cat_2.png"
    box.controls["upload"].value = upload_value("my photo.png", png_bytes())
    assert box.controls["sample"].value == "uploaded: my photo.png"
    uploaded = box.result["image"]
    box.controls["top_k"].value = 5  # still the upload, not the previous sample
    assert box.result["name"] == "my photo.png" and len(box.result["top"]) == 5
    np.testing.assert_array_equal(box.result["image"], uploaded)
    box.controls["upload"].value = upload_value("second.png", png_bytes(seed=2))
    options = box.controls["sample"].options
    assert options[0] == "uploaded: second.png" and "uploaded: my photo.png" not in options
    box.controls["sample"].value = "frog_1.jpg"
    assert box.readout.value.startswith("frog_1.jpg → ")


@pytest.fixture(scope="module")
def stand_in_model(tiny_model):
    from cifar_helpers.notebook import quiet_tensorflow
    from cifar_helpers.pretrained import STAND_IN_NAME

    keras = quiet_tensorflow()
    model = keras.models.clone_model(tiny_model)
    model.name = STAND_IN_NAME
    return model


def test_model_widgets_label_a_stand_in(tiny_model, stand_in_model):
    from cifar_helpers.pretrained import STAND_IN_NOTE

    assert "1 epoch on 1,000 images: guesses are near chance" in STAND_IN_NOTE
    for build in (widgets.prediction_explorer, widgets.feature_map_explorer):
        assert STAND_IN_NOTE in "".join(_html_of(build(stand_in_model)))
        assert "Stand-in" not in "".join(_html_of(build(tiny_model)))
    box = widgets.prediction_explorer(stand_in_model)
    assert box.readout.value.endswith("· stand-in model: near chance")


def test_the_stand_in_keeps_its_name_in_its_file(tmp_path, monkeypatch):
    from cifar_helpers import pretrained
    from cifar_helpers.saving import load_model

    images = RNG.integers(0, 256, size=(1000, 32, 32, 3), dtype=np.uint8)
    labels = np.repeat(np.arange(10), 100)
    monkeypatch.setattr(pretrained, "load_cifar10", lambda: ((images, labels), (images, labels)))
    monkeypatch.setattr(pretrained, "train", lambda *args, **kwargs: None)  # no need to learn
    model = pretrained.train_quick_seed_model(tmp_path / "stand_in.keras", verbose=False)
    assert pretrained.is_stand_in(model)
    assert pretrained.is_stand_in(load_model(tmp_path / "stand_in.keras"))
