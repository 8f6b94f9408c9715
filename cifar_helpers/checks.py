"""Answer checks for the lessons' exercises: right or wrong, never the answer itself.

`check_answer` compares any answer with the value it should have (computed by
the lesson's own helpers, never printed). The ``check_*`` functions below it
are notebook 08's exercises (how a CNN learns), with hints for common slips.

Each ``check_*`` function takes a student's answer and returns a `Verdict`: it
shows as ``Correct!`` or as ``Not yet: <a hint>``, and is truthy only when the
answer is right. A check never shows the answer itself, and never raises: an
answer of the wrong shape or type gets a hint too. An answer still left as
``...`` (or None) gets "Fill in your answer ...", so that a lesson's exercise
cells run cleanly before the student has touched them.

The data of each exercise is a module constant, printed by the notebook::

    from cifar_helpers.checks import check_softmax_gradient, SOFTMAX_LOGITS
    check_softmax_gradient(my_gradient)

This module imports NumPy only.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "check_answer",
    "CONV_GRAD_OUTPUT",
    "CONV_INPUT",
    "DROPOUT_RATE",
    "DROPOUT_VALUE",
    "FILL_IN",
    "MAX_POOL_GRAD_OUTPUT",
    "MAX_POOL_INPUT",
    "MOMENTUM_SETTINGS",
    "QUADRATIC_LOSS",
    "SOFTMAX_LABEL",
    "SOFTMAX_LOGITS",
    "Verdict",
    "check_conv_kernel_gradient",
    "check_dropout",
    "check_initial_loss",
    "check_max_pool_gradient",
    "check_momentum_steps",
    "check_one_step_learning_rate",
    "check_softmax_gradient",
]

#: What a check says while the answer is still ``...`` or None.
FILL_IN = "Fill in your answer (replace the ...), then run this cell again."

#: Exercise 2: the scores of one image for 3 classes, and its true class.
SOFTMAX_LOGITS = (2.0, 1.0, 0.0)
SOFTMAX_LABEL = 1

#: Exercise 3: a 4x4 feature map, max-pooled 2x2, and the gradient arriving at the pooled map.
MAX_POOL_INPUT = ((1.0, 5.0, 2.0, 0.0),
                  (3.0, 4.0, 7.0, 1.0),
                  (0.0, 2.0, 3.0, 3.5),
                  (6.0, 1.0, 2.0, 1.0))
MAX_POOL_GRAD_OUTPUT = ((1.0, -1.0),
                        (2.0, 0.5))

#: Exercise 4: a 4x4 input and the 2x2 gradient at the output of a 3x3 ``"valid"`` convolution.
CONV_INPUT = ((1.0, 0.0, 2.0, 1.0),
              (0.0, 1.0, 0.0, 3.0),
              (2.0, 1.0, 1.0, 0.0),
              (1.0, 0.0, 2.0, 1.0))
CONV_GRAD_OUTPUT = ((1.0, 0.0),
                    (-1.0, 2.0))

#: Exercise 5: ``loss(w) = a * (w - b) ** 2`` as (a, b).
QUADRATIC_LOSS = (2.0, 3.0)

#: Exercise 6: start weight, constant gradient, learning rate, momentum, number of steps.
MOMENTUM_SETTINGS = dict(weight=1.0, gradient=0.5, learning_rate=0.1, momentum=0.9, steps=3)

#: Exercise 7: the dropout rate, and an activation that survives the drop.
DROPOUT_RATE = 0.2
DROPOUT_VALUE = 1.5


class Verdict:
    """The outcome of a check: shows as its message, true only when the answer is right.

    Examples
    --------
    >>> Verdict(True, "Correct!")
    Correct!
    >>> bool(Verdict(False, "Not yet: try again."))
    False
    """

    def __init__(self, correct, message):
        self.correct = bool(correct)
        self.message = message

    def __bool__(self):
        return self.correct

    def __repr__(self):
        return self.message

    def _repr_pretty_(self, printer, cycle):
        printer.text(self.message)


_RIGHT = Verdict(True, "Correct!")


def _not_yet(hint):
    return Verdict(False, f"Not yet: {hint}")


def _unfilled(answer):
    """True if `answer` is None or ``...``, or holds a ``...`` anywhere inside."""
    if answer is None or answer is Ellipsis:
        return True
    if isinstance(answer, (list, tuple)):
        return any(_unfilled(item) for item in answer)
    if isinstance(answer, np.ndarray) and answer.dtype == object:
        return any(_unfilled(item) for item in answer.ravel())
    return False


def _as_array(answer, shape, what):
    """`answer` as a float array of `shape`, or a `Verdict` saying what is wrong with it."""
    if _unfilled(answer):
        return Verdict(False, FILL_IN)
    try:
        array = np.array(answer, dtype=float)
    except (TypeError, ValueError):
        return _not_yet(f"{what} must be numbers, e.g. a NumPy array of shape {shape}.")
    if array.shape != shape:
        return _not_yet(f"{what} must have shape {shape}, one value per {_PER[what]}. "
                        f"Received shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        return _not_yet(f"{what} must hold finite numbers (no nan or inf).")
    return array


_PER = {
    "the gradient": "class",
    "the input gradient": "cell of the feature map",
    "the kernel gradient": "kernel weight",
    "the answer": "value asked for",
}


def _as_number(answer, what="the answer"):
    if _unfilled(answer):
        return Verdict(False, FILL_IN)
    if isinstance(answer, (bool, np.bool_)):
        return _not_yet(f"{what} is a number, not True or False.")
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return _not_yet(f"{what} must be one number.")
    if not math.isfinite(value):
        return _not_yet(f"{what} must be a finite number.")
    return value


def _close(value, expected, tolerance):
    return bool(np.all(np.abs(np.asarray(value) - np.asarray(expected)) <= tolerance))


def check_answer(answer, expected, rtol=1e-3, atol=1e-6, hint=None):
    """Say whether `answer` equals `expected` (numbers, arrays or text), without showing it.

    Parameters
    ----------
    answer : number, str, sequence or ndarray
        The student's answer; ``...`` or None means "not filled in yet".
    expected : number, str, sequence or ndarray
        The right answer.
    rtol, atol : float
        Numbers count as equal within ``atol + rtol * |expected|``.
    hint : str, optional
        What to say when the answer has the right form but the wrong value.

    Returns
    -------
    Verdict
        ``Correct!``, ``Not yet: <hint>``, or the fill-in reminder. The hint
        may name the expected shape or type, never the expected values.

    Examples
    --------
    >>> check_answer(..., 0.25)
    Fill in your answer (replace the ...), then run this cell again.
    >>> check_answer(0.25, 1 / 4)
    Correct!
    >>> check_answer([1, 2], np.array([[1, 2], [3, 4]]))
    Not yet: the answer must have shape (2, 2). Received shape (2,).
    >>> check_answer(0.3, 0.25)
    Not yet: not this value; check your working.
    >>> check_answer("Cat", "cat")
    Correct!
    """
    if _unfilled(answer):
        return Verdict(False, FILL_IN)
    wrong = _not_yet(hint or "not this value; check your working.")
    if isinstance(expected, str):
        if not isinstance(answer, str):
            return _not_yet("the answer is a word, in quotes, e.g. \"bird\".")
        return _RIGHT if answer.strip().lower() == expected.strip().lower() else wrong
    expected = np.asarray(expected, dtype=float)
    try:
        value = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return _not_yet(f"the answer must be numbers, shape {expected.shape}.")
    if value.shape != expected.shape:
        return _not_yet(f"the answer must have shape {expected.shape}. "
                        f"Received shape {value.shape}.")
    if not np.all(np.isfinite(value)):
        return _not_yet("the answer must hold finite numbers (no nan or inf).")
    return _RIGHT if np.allclose(value, expected, rtol=rtol, atol=atol) else wrong


# -- the exercises ---------------------------------------------------------------------------------
def check_initial_loss(answer, num_classes=100):
    """Exercise 1: the loss an untrained classifier of `num_classes` classes starts from.

    Examples
    --------
    >>> check_initial_loss(...)
    Fill in your answer (replace the ...), then run this cell again.
    >>> check_initial_loss(0.01)
    Not yet: the loss is minus the logarithm of the probability given to the true class.
    """
    value = _as_number(answer)
    if isinstance(value, Verdict):
        return value
    expected = math.log(num_classes)
    if _close(value, expected, 0.01):
        return _RIGHT
    if _close(value, 1 / num_classes, 1e-3):
        return _not_yet("the loss is minus the logarithm of the probability given to the "
                        "true class.")
    if _close(value, math.log(10), 0.01):
        return _not_yet("that is the starting loss with 10 classes; how many are there now?")
    if value < 0:
        return _not_yet("a cross-entropy loss is never negative.")
    return _not_yet("with every class equally likely, what probability does the true class "
                    "get, and what is minus its logarithm?")


def _softmax(logits):
    exps = np.exp(np.asarray(logits) - np.max(logits))
    return exps / exps.sum()


def check_softmax_gradient(answer):
    """Exercise 2: the gradient of the cross-entropy loss with respect to `SOFTMAX_LOGITS`.

    Examples
    --------
    >>> check_softmax_gradient([0.0, 0.0, 0.0])
    Not yet: the gradient is the predicted probabilities minus the one-hot label; \
compute softmax(logits) first.
    """
    value = _as_array(answer, (3,), "the gradient")
    if isinstance(value, Verdict):
        return value
    probabilities = _softmax(SOFTMAX_LOGITS)
    one_hot = np.eye(3)[SOFTMAX_LABEL]
    if _close(value, probabilities - one_hot, 2e-3):
        return _RIGHT
    if _close(value, one_hot - probabilities, 2e-3):
        return _not_yet("the signs are the wrong way round: the loss goes down when the true "
                        "class's score goes up.")
    if _close(value, probabilities, 2e-3):
        return _not_yet("those are the probabilities; now subtract the one-hot label.")
    if abs(float(value.sum())) > 2e-3:
        return _not_yet("the three entries of this gradient add up to 0. Subtract the one-hot "
                        "label from the probabilities.")
    return _not_yet("the gradient is the predicted probabilities minus the one-hot label; "
                    "compute softmax(logits) first.")


def _max_pool_gradient():
    feature_map, grad = np.array(MAX_POOL_INPUT), np.array(MAX_POOL_GRAD_OUTPUT)
    result = np.zeros_like(feature_map)
    for r in range(2):
        for c in range(2):
            window = feature_map[2 * r:2 * r + 2, 2 * c:2 * c + 2]
            i, j = np.unravel_index(np.argmax(window), (2, 2))
            result[2 * r + i, 2 * c + j] = grad[r, c]
    return result


def check_max_pool_gradient(answer):
    """Exercise 3: the gradient reaching `MAX_POOL_INPUT` through 2x2 max pooling.

    Examples
    --------
    >>> check_max_pool_gradient(np.full((4, 4), 0.25))
    Not yet: each window sends its whole gradient to the cell that won, its maximum; \
the other 3 cells of the window get 0.
    """
    value = _as_array(answer, (4, 4), "the input gradient")
    if isinstance(value, Verdict):
        return value
    expected = _max_pool_gradient()
    if _close(value, expected, 1e-6):
        return _RIGHT
    spread = np.repeat(np.repeat(np.array(MAX_POOL_GRAD_OUTPUT), 2, axis=0), 2, axis=1)
    if _close(value, spread / 4, 1e-6):
        return _not_yet("that is average pooling's gradient. Max pooling sends each window's "
                        "gradient to one cell only.")
    if np.count_nonzero(value) == 4 and _close(np.sort(value[value != 0]),
                                               np.sort(expected[expected != 0]), 1e-6):
        return _not_yet("the right values, not all in the right cells: in each window, which "
                        "cell holds the maximum?")
    return _not_yet("each window sends its whole gradient to the cell that won, its maximum; "
                    "the other 3 cells of the window get 0.")


def check_conv_kernel_gradient(answer):
    """Exercise 4: the 3x3 kernel gradient for `CONV_INPUT` and `CONV_GRAD_OUTPUT`.

    Examples
    --------
    >>> check_conv_kernel_gradient(np.zeros((3, 3)))
    Not yet: weight (i, j) touches pixel (r + i, c + j) in window (r, c): add up that \
pixel times grad_output[r, c] over the 4 windows.
    """
    value = _as_array(answer, (3, 3), "the kernel gradient")
    if isinstance(value, Verdict):
        return value
    x, grad = np.array(CONV_INPUT), np.array(CONV_GRAD_OUTPUT)
    expected = sum(grad[r, c] * x[r:r + 3, c:c + 3] for r in range(2) for c in range(2))
    if _close(value, expected, 1e-6):
        return _RIGHT
    if _close(value, expected[::-1, ::-1], 1e-6):
        return _not_yet("flipped by 180 degrees: the kernel gradient is a cross-correlation "
                        "of the input with the gradient, no flip.")
    return _not_yet("weight (i, j) touches pixel (r + i, c + j) in window (r, c): add up that "
                    "pixel times grad_output[r, c] over the 4 windows.")


def check_one_step_learning_rate(answer):
    """Exercise 5: the learning rate that reaches the minimum of `QUADRATIC_LOSS` in one step.

    Examples
    --------
    >>> check_one_step_learning_rate(1.0)
    Not yet: write one step, w - learning_rate * loss'(w), with loss'(w) = 2a (w - b), \
and ask when it lands on b for every w.
    """
    value = _as_number(answer, "the learning rate")
    if isinstance(value, Verdict):
        return value
    a, _ = QUADRATIC_LOSS
    if _close(value, 1 / (2 * a), 1e-6):
        return _RIGHT
    if _close(value, 1 / a, 1e-6):
        return _not_yet("with that learning rate every step jumps to the mirror point on the "
                        "other side of the minimum, and the walk never ends.")
    if value <= 0:
        return _not_yet("a learning rate must be positive to go downhill.")
    return _not_yet("write one step, w - learning_rate * loss'(w), with "
                    "loss'(w) = 2a (w - b), and ask when it lands on b for every w.")


def _momentum_path(momentum):
    settings = MOMENTUM_SETTINGS
    weight, velocity = settings["weight"], 0.0
    for _ in range(settings["steps"]):
        velocity = momentum * velocity - settings["learning_rate"] * settings["gradient"]
        weight += velocity
    return weight


def check_momentum_steps(answer):
    """Exercise 6: the weight after `MOMENTUM_SETTINGS`' steps of SGD with momentum.

    Examples
    --------
    >>> check_momentum_steps(0.0)
    Not yet: keep a velocity v (0 at the start): v = momentum * v - learning_rate * gradient, \
then w = w + v, three times.
    """
    value = _as_number(answer, "the weight")
    if isinstance(value, Verdict):
        return value
    if _close(value, _momentum_path(MOMENTUM_SETTINGS["momentum"]), 1e-4):
        return _RIGHT
    if _close(value, _momentum_path(0.0), 1e-4):
        return _not_yet("that is plain gradient descent: with momentum, the velocity remembers "
                        "the earlier steps and the steps grow.")
    return _not_yet("keep a velocity v (0 at the start): v = momentum * v - learning_rate * "
                    "gradient, then w = w + v, three times.")


def check_dropout(answer):
    """Exercise 7: `DROPOUT_VALUE` after Keras' dropout, as (in training, at inference).

    Examples
    --------
    >>> check_dropout((1.5, 1.5))
    Not yet: in training, a value that survives is scaled up; by how much, so that the \
average stays the same?
    """
    value = _as_array(answer, (2,), "the answer")
    if isinstance(value, Verdict):
        return value
    training, inference = value
    if not _close(inference, DROPOUT_VALUE, 1e-6):
        if _close(inference, DROPOUT_VALUE * (1 - DROPOUT_RATE), 1e-6):
            return _not_yet("that was the old, non-inverted dropout: Keras does all the "
                            "scaling in training, so inference changes nothing.")
        return _not_yet("at inference Keras' Dropout layer does nothing at all.")
    if _close(training, DROPOUT_VALUE / (1 - DROPOUT_RATE), 1e-6):
        return _RIGHT
    if _close(training, DROPOUT_VALUE * (1 - DROPOUT_RATE), 1e-6):
        return _not_yet("in training the surviving values are divided by the keep probability, "
                        "not multiplied.")
    return _not_yet("in training, a value that survives is scaled up; by how much, so that the "
                    "average stays the same?")
