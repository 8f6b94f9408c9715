"""The gradient-descent explorer and its pictures: controls set from Python, numbers checked."""

import io

import ipywidgets
import numpy as np
import pytest
from PIL import Image

from cifar_helpers import widgets
from cifar_helpers.backprop import numerical_gradient, sgd_momentum_step
from cifar_helpers.convolution import conv2d
from cifar_helpers.drawing_learning import (
    descent_picture,
    loss_history_picture,
    loss_surface,
    plot_descent,
    plot_loss_history,
)
from cifar_helpers.widgets.learning import DEFAULT_START, DIFFERENCE_KERNEL, kernel_fit

RNG = np.random.default_rng(0)
IMAGE = RNG.normal(size=(10, 12))
TARGET = np.array([[0.5, -1.0]])
START = np.array([-1.0, 0.5])


def reference_loss(weights, image=IMAGE, target_kernel=TARGET):
    """The explorer's loss, written out independently of `conv2d_backward`."""
    kernel = np.asarray(weights, dtype=float).reshape(np.shape(target_kernel))
    return float(np.mean((conv2d(image, kernel) - conv2d(image, target_kernel)) ** 2))


def reference_path(steps, learning_rate, momentum, start=START):
    """The points SGD visits, with gradients taken by central differences."""
    weights, velocity, path = np.asarray(start, dtype=float), None, [np.asarray(start, float)]
    for _ in range(steps):
        gradient = numerical_gradient(reference_loss, weights)
        weights, velocity = sgd_momentum_step(weights, gradient, velocity, learning_rate, momentum)
        path.append(weights)
    return np.array(path)


def explorer(**kwargs):
    options = dict(image=IMAGE, target_kernel=TARGET, start=START)
    return widgets.gradient_descent_explorer(**{**options, **kwargs})


def png_shape(data):
    return np.asarray(Image.open(io.BytesIO(data))).shape


# -- kernel_fit: the loss and its gradient ------------------------------------------------------
@pytest.mark.parametrize("target_kernel", [TARGET, TARGET.T])
def test_kernel_fit_matches_the_numerical_gradient(target_kernel):
    loss_and_gradient = kernel_fit(IMAGE, target_kernel)
    for weights in (np.zeros(2), np.array([2.0, -3.0]), RNG.normal(size=2)):
        loss, gradient = loss_and_gradient(weights)
        reference = lambda w: reference_loss(w, target_kernel=target_kernel)  # noqa: E731
        assert loss == pytest.approx(reference(weights))
        np.testing.assert_allclose(gradient, numerical_gradient(reference, weights), atol=1e-7)
    loss, gradient = loss_and_gradient(np.asarray(target_kernel).ravel())
    assert loss == pytest.approx(0.0, abs=1e-24)
    np.testing.assert_allclose(gradient, 0.0, atol=1e-12)


@pytest.mark.parametrize(
    "image, target_kernel, match",
    [
        (np.zeros((3, 3, 3)), TARGET, "image"),
        (IMAGE, np.ones((3, 3)), "two weights"),
        (IMAGE, np.ones((1, 3)), "two weights"),
        (np.zeros((1, 1)), TARGET, "smaller than the kernel"),
        ([[1.0, np.nan]], TARGET, "image"),
    ],
)
def test_kernel_fit_refuses_bad_inputs(image, target_kernel, match):
    with pytest.raises(ValueError, match=match):
        kernel_fit(image, target_kernel)


# -- the explorer --------------------------------------------------------------------------------
def test_the_explorer_is_a_course_widget():
    box = explorer()
    assert isinstance(box, ipywidgets.VBox)
    assert set(box.controls) == {"learning_rate", "momentum", "step", "ten_steps", "reset"}
    assert box.message.value == ""
    assert box.readout.value.startswith("step 0: weights [-1, 0.5]")
    assert "cifar-readout" in box.readout._dom_classes
    text = box._repr_mimebundle_()["text/plain"]
    assert text == ("[Gradient descent, step by step: interactive widget, run the cell in "
                    "JupyterLab or Voilà]")


def test_the_default_explorer_is_notebook_08s_problem():
    box = widgets.gradient_descent_explorer()
    np.testing.assert_array_equal(box.result["weights"], DEFAULT_START)
    assert box.result["step"] == 0
    np.testing.assert_array_equal(DIFFERENCE_KERNEL, [[1.0, -1.0]])
    box.controls["ten_steps"].click()
    box.controls["ten_steps"].click()   # 20 steps at the default learning rate, 0.3
    np.testing.assert_allclose(box.result["weights"], [1.0, -1.0], atol=0.1)


@pytest.mark.parametrize("learning_rate, momentum", [(0.05, 0.0), (0.3, 0.0), (0.1, 0.8)])
def test_steps_follow_sgd_with_the_sliders_settings(learning_rate, momentum):
    box = explorer()
    box.controls["learning_rate"].value = learning_rate
    box.controls["momentum"].value = momentum
    box.controls["step"].click()
    box.controls["step"].click()
    box.controls["ten_steps"].click()
    expected = reference_path(12, learning_rate, momentum)
    assert box.result["step"] == 12
    np.testing.assert_allclose(box.result["path"], expected, atol=1e-6)
    np.testing.assert_allclose(box.result["losses"], [reference_loss(w) for w in expected],
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(box.result["gradient"],
                               numerical_gradient(reference_loss, expected[-1]), atol=1e-7)
    assert box.readout.value.startswith("step 12: weights")
    assert box.message.value == ""


def test_a_new_learning_rate_applies_from_the_next_step():
    box = explorer()
    box.controls["learning_rate"].value = 0.1
    box.controls["step"].click()
    box.controls["learning_rate"].value = 0.01
    box.controls["step"].click()
    first = reference_path(1, 0.1, 0.0)[-1]
    second = reference_path(1, 0.01, 0.0, start=first)[-1]
    np.testing.assert_allclose(box.result["weights"], second, atol=1e-7)
    assert "learning rate 0.01" in box.readout.value


def test_reset_goes_back_to_the_start():
    box = explorer()
    box.controls["ten_steps"].click()
    box.controls["reset"].click()
    assert box.result["step"] == 0
    np.testing.assert_array_equal(box.result["path"], [START])
    assert box.result["velocity"] is None
    assert box.result["losses"][0] == pytest.approx(reference_loss(START))


def test_a_too_large_learning_rate_diverges_with_a_message_and_the_widget_recovers():
    box = explorer()
    box.controls["learning_rate"].value = 3.0
    for _ in range(10):
        box.controls["ten_steps"].click()
    assert "ran away" in box.message.value and "Press Reset" in box.message.value
    assert np.all(np.abs(box.result["weights"]) < 1e6)    # the last drawing is kept
    box.controls["learning_rate"].value = 0.1
    box.controls["reset"].click()
    box.controls["step"].click()
    assert box.message.value == ""
    assert box.result["step"] == 1


def test_the_pictures_are_drawn_and_redrawn():
    box = explorer()
    pictures = [child for child in box.children[3].children]
    surface_before = pictures[0].children[1].value
    history_before = pictures[1].children[1].value
    assert png_shape(surface_before)[:2] == (240, 240)
    box.controls["step"].click()
    assert pictures[0].children[1].value != surface_before
    assert pictures[1].children[1].value != history_before


@pytest.mark.parametrize("start", [[1.0], [[1.0, 2.0]], [np.inf, 0.0]])
def test_the_explorer_refuses_a_bad_start(start):
    with pytest.raises(ValueError, match="start"):
        explorer(start=start)


# -- the pictures ----------------------------------------------------------------------------
W0, W1 = np.linspace(-2, 2, 21), np.linspace(-1, 3, 17)
BOWL = loss_surface(lambda w: 1 + (w[0] - 1) ** 2 + 3 * (w[1] - 1) ** 2, W0, W1)


def test_loss_surface_rows_follow_w1_and_columns_w0():
    assert BOWL.shape == (17, 21)
    assert BOWL[np.argmin(np.abs(W1 - 1)), np.argmin(np.abs(W0 - 1))] == pytest.approx(1.0)
    assert BOWL[0, 0] == pytest.approx(1 + 9 + 3 * 4)


@pytest.mark.parametrize(
    "loss, w0, match",
    [
        ("loss", W0, "function"),
        (lambda w: np.inf, W0, "finite"),
        (lambda w: 0.0, [1.0, 0.0], "increasing"),
        (lambda w: 0.0, [1.0], "at least 2"),
    ],
)
def test_loss_surface_refuses_bad_inputs(loss, w0, match):
    with pytest.raises(ValueError, match=match):
        loss_surface(loss, w0, W1)


def test_descent_picture_marks_the_path_start_and_minimum():
    path = [[-2.0, 3.0], [0.0, 1.0], [1.0, 1.0], [50.0, -40.0], [np.inf, 0.0]]
    picture = descent_picture(W0, W1, BOWL, path, minimum=[1.0, 1.0], size=101)
    assert picture.shape == (101, 101, 3) and picture.dtype == np.uint8
    orange, yellow = [230, 81, 0], [253, 216, 53]
    assert picture[0, 0].tolist() == orange                     # the start, top left
    assert picture[50, 50].tolist() == orange                   # (0, 1): a point of the path
    assert picture[50, 75].tolist() == orange                   # (1, 1): drawn over the minimum
    assert picture[46, 75].tolist() == yellow                   # the minimum's square shows
    assert (picture == orange).all(axis=2).sum() > 200          # segments, not just points


def test_descent_picture_shape_errors():
    with pytest.raises(ValueError, match="surface"):
        descent_picture(W0, W1, BOWL.T, [[0.0, 0.0]])


def test_loss_history_picture_goes_from_top_left_down_to_the_right():
    picture = loss_history_picture([10.0, 1.0, 0.1], size=(50, 80), min_steps=2)
    blue = [30, 136, 229]
    assert picture[8, 8].tolist() == blue and picture[41, 71].tolist() == blue
    empty = loss_history_picture([np.nan, 0.0], size=(20, 30))
    assert (empty[1:-1, 1:-1] == 255).all()
    flat = loss_history_picture([2.0, 2.0], size=(21, 30), min_steps=1)
    assert flat[10, 8].tolist() == blue


def test_matplotlib_versions_draw_the_same_data():
    path = np.array([[-2.0, 3.0], [0.0, 1.0]])
    ax = plot_descent(W0, W1, BOWL, path, minimum=[1, 1], title="t")
    np.testing.assert_array_equal(ax.lines[-1].get_xydata(), path)
    assert ax.get_title() == "t"
    ax = plot_loss_history([3.0, 2.0, 1.0], label="a")
    plot_loss_history([4.0, 1.0], label="b", ax=ax)
    assert [line.get_label() for line in ax.lines] == ["a", "b"]
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="surface"):
        plot_descent(W0, W1, BOWL[:, :-1], path)
