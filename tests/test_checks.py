"""The exercise checks of notebook 08: right answers pass, wrong ones get a hint, none leaks."""

import math

import numpy as np
import pytest

from cifar_helpers import checks
from cifar_helpers.backprop import (
    conv2d_backward,
    pool2d_backward,
    sgd_momentum_step,
    softmax_cross_entropy,
)
from cifar_helpers.checks import (
    CONV_GRAD_OUTPUT,
    CONV_INPUT,
    DROPOUT_RATE,
    DROPOUT_VALUE,
    FILL_IN,
    MAX_POOL_GRAD_OUTPUT,
    MAX_POOL_INPUT,
    MOMENTUM_SETTINGS,
    QUADRATIC_LOSS,
    SOFTMAX_LABEL,
    SOFTMAX_LOGITS,
    Verdict,
)


# -- the right answers, computed independently with the tested helpers -------------------------
def _momentum_answer():
    weights, velocity = np.array([MOMENTUM_SETTINGS["weight"]]), None
    for _ in range(MOMENTUM_SETTINGS["steps"]):
        weights, velocity = sgd_momentum_step(
            weights, [MOMENTUM_SETTINGS["gradient"]], velocity,
            MOMENTUM_SETTINGS["learning_rate"], MOMENTUM_SETTINGS["momentum"])
    return float(weights[0])


RIGHT = {
    "check_initial_loss": math.log(100),
    "check_softmax_gradient": softmax_cross_entropy(
        np.array([SOFTMAX_LOGITS]), np.array([SOFTMAX_LABEL]))[1][0],
    "check_max_pool_gradient": pool2d_backward(np.array(MAX_POOL_INPUT),
                                               np.array(MAX_POOL_GRAD_OUTPUT), pool_size=2),
    "check_conv_kernel_gradient": conv2d_backward(np.array(CONV_INPUT), np.zeros((3, 3)),
                                                  np.array(CONV_GRAD_OUTPUT))[1],
    "check_one_step_learning_rate": 1 / (2 * QUADRATIC_LOSS[0]),
    "check_momentum_steps": _momentum_answer(),
    "check_dropout": (DROPOUT_VALUE / (1 - DROPOUT_RATE), DROPOUT_VALUE),
}

#: Wrong answers, each with a word its hint must contain.
WRONG = [
    ("check_initial_loss", math.log(10), "10 classes"),
    ("check_initial_loss", 0.01, "logarithm"),
    ("check_initial_loss", -1.0, "never negative"),
    ("check_initial_loss", 3.0, "equally likely"),
    ("check_softmax_gradient", -RIGHT["check_softmax_gradient"], "signs"),
    ("check_softmax_gradient", RIGHT["check_softmax_gradient"] + np.eye(3)[SOFTMAX_LABEL],
     "probabilities"),
    ("check_softmax_gradient", [1.0, 1.0, 1.0], "add up to 0"),
    ("check_softmax_gradient", [0.5, -0.25, -0.25], "softmax"),
    ("check_max_pool_gradient", np.repeat(np.repeat(
        np.array(MAX_POOL_GRAD_OUTPUT), 2, axis=0), 2, axis=1) / 4, "average pooling"),
    ("check_max_pool_gradient", RIGHT["check_max_pool_gradient"][::-1], "right cells"),
    ("check_max_pool_gradient", np.zeros((4, 4)), "maximum"),
    ("check_conv_kernel_gradient", RIGHT["check_conv_kernel_gradient"][::-1, ::-1], "flipped"),
    ("check_conv_kernel_gradient", np.zeros((3, 3)), "window"),
    ("check_one_step_learning_rate", 1 / QUADRATIC_LOSS[0], "mirror point"),
    ("check_one_step_learning_rate", -0.25, "positive"),
    ("check_one_step_learning_rate", 0.1, "lands on b"),
    ("check_momentum_steps", 1 - 3 * 0.05, "plain gradient descent"),
    ("check_momentum_steps", 0.0, "velocity"),
    ("check_dropout", (DROPOUT_VALUE, DROPOUT_VALUE), "scaled up"),
    ("check_dropout", (DROPOUT_VALUE * (1 - DROPOUT_RATE), DROPOUT_VALUE), "divided"),
    ("check_dropout", (DROPOUT_VALUE / (1 - DROPOUT_RATE), 1.2), "non-inverted"),
    ("check_dropout", (DROPOUT_VALUE / (1 - DROPOUT_RATE), 0.0), "does nothing"),
]

NAMES = sorted(RIGHT)


def _check(name):
    return getattr(checks, name)


def _digits(answer):
    """Ways the answer's numbers could be written in a message (3 and 4 decimals)."""
    values = np.atleast_1d(np.asarray(answer, dtype=float)).ravel()
    return {f"{v:.3f}" for v in values if not float(v).is_integer()} | {
        f"{v:.4f}" for v in values if not float(v).is_integer()}


def test_every_check_is_tested():
    lesson_checks = {n for n in checks.__all__ if n.startswith("check_")} - {"check_answer"}
    assert set(NAMES) == lesson_checks


@pytest.mark.parametrize("name", NAMES)
def test_right_answer_is_correct(name):
    verdict = _check(name)(RIGHT[name])
    assert verdict
    assert repr(verdict) == "Correct!"


@pytest.mark.parametrize("name", NAMES)
def test_right_answer_as_a_list_or_rounded_is_correct(name):
    answer = RIGHT[name]
    as_list = np.asarray(answer, dtype=float).round(4).tolist()
    assert _check(name)(as_list), name


@pytest.mark.parametrize("name, answer, word", WRONG)
def test_wrong_answer_gets_a_hint(name, answer, word):
    verdict = _check(name)(answer)
    assert not verdict
    assert repr(verdict).startswith("Not yet: ")
    assert word in repr(verdict)


@pytest.mark.parametrize("name, answer, word", WRONG)
def test_a_hint_never_shows_the_answer(name, answer, word):
    message = repr(_check(name)(answer))
    for text in _digits(RIGHT[name]):
        assert text not in message, (name, text, message)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("blank", [..., None, [..., ...], np.array([..., 1.0], dtype=object)])
def test_an_unfilled_answer_asks_to_fill_it_in(name, blank):
    verdict = _check(name)(blank)
    assert not verdict
    assert repr(verdict) == FILL_IN


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", ["four", {"a": 1}, [[1.0, 2.0], [3.0]], float("nan"),
                                 np.zeros((7, 7)), True])
def test_a_bad_answer_gets_a_hint_and_never_raises(name, bad):
    verdict = _check(name)(bad)
    assert not verdict
    assert repr(verdict).startswith("Not yet: ")


def test_a_wrong_shape_is_named_in_the_hint():
    message = repr(checks.check_max_pool_gradient(np.zeros((2, 2))))
    assert "shape (4, 4)" in message and "Received shape (2, 2)" in message


def test_checks_tolerate_rounding_to_three_decimals():
    assert checks.check_initial_loss(4.605)
    assert checks.check_softmax_gradient([0.665, -0.755, 0.090])
    assert not checks.check_softmax_gradient([0.6, -0.7, 0.1])


def test_verdict_shows_as_its_message_in_ipython():
    class Printer:
        def __init__(self):
            self.parts = []

        def text(self, value):
            self.parts.append(value)

    printer = Printer()
    Verdict(False, "Not yet: hint")._repr_pretty_(printer, cycle=False)
    assert printer.parts == ["Not yet: hint"]


def test_exercise_data_is_read_only_tuples():
    for value in (SOFTMAX_LOGITS, MAX_POOL_INPUT, MAX_POOL_GRAD_OUTPUT, CONV_INPUT,
                  CONV_GRAD_OUTPUT, QUADRATIC_LOSS):
        assert isinstance(value, tuple)


# --- check_answer: the generic check of every lesson ---------------------------------------------


@pytest.mark.parametrize(
    "answer, expected",
    [(0.25, 1 / 4), ([[1, 2], [3, 4]], np.array([[1.0, 2.0], [3.0, 4.0]])), ("Bird ", "bird"),
     (np.float32(0.0024242), 0.01 / (1 + 0.0004 * 5 * 1563))],
)
def test_check_answer_accepts_the_right_answer(answer, expected):
    from cifar_helpers.checks import check_answer

    verdict = check_answer(answer, expected)
    assert verdict and repr(verdict) == "Correct!"


@pytest.mark.parametrize(
    "answer, expected",
    [(0.3, 0.25), ([[1, 2], [3, 5]], [[1, 2], [3, 4]]), ("cat", "dog"), (2, "dog"),
     (0.5, 0.0024242),
     ("two", 2.0), ([1, 2], [[1, 2]]), (float("nan"), 1.0), (None, 1.0), (..., 1.0),
     ([1, ...], [1, 2])],
)
def test_check_answer_rejects_a_wrong_answer_without_revealing_it(answer, expected):
    from cifar_helpers.checks import check_answer

    verdict = check_answer(answer, expected)
    assert not verdict
    message = repr(verdict)
    assert message.startswith(("Not yet:", "Fill in"))
    if isinstance(expected, str):
        assert expected not in message
    elif np.ndim(expected) == 0:
        assert f"{float(expected):g}" not in message
    else:
        assert str(np.asarray(expected, dtype=float)) not in message
        assert str(np.asarray(expected).tolist()) not in message
