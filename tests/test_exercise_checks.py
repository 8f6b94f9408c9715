"""Every exercise check of the lessons rejects a wrong answer and accepts the right one.

The test runs each lesson's exercise cells (the code cells after "## Exercises" that
call `check_answer`) in a small stand-in for the lesson: the helpers and the few
variables the cells use, built as the lesson builds them. Then, for each
``check_answer(my_answer, <expected>, ...)`` call, it evaluates the notebook's own
``<expected>`` expression and keyword arguments and feeds the check the right answer
(the worked solution's numbers, written out here) and typical wrong ones.

`ANSWERS` must name every checked answer of a lesson, and nothing else, so a new
exercise check cannot go untested. Lesson 01 needs CIFAR-10 (the `cifar10_dir`
fixture); lessons 08 to 10 test their own checks elsewhere.
"""

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from cifar_helpers.checks import FILL_IN, check_answer

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

LESSONS = {
    "01": "01_images_and_cifar10.ipynb",
    "02": "02_convolution_by_hand.ipynb",
    "03": "03_image_filters.ipynb",
    "04": "04_strides_and_padding.ipynb",
    "05": "05_relu_and_activations.ipynb",
    "06": "06_pooling.ipynb",
    "07": "07_flatten_dense_softmax.ipynb",
    "11": "11_unsupervised_classification.ipynb",
    "12": "12_training_faster_and_better.ipynb",
}


def _lesson_01(request):
    from cifar_helpers.data import CLASS_NAMES, load_cifar10

    (x_train, y_train), (x_test, y_test) = load_cifar10(request.getfixturevalue("cifar10_dir"))
    return dict(CLASS_NAMES=CLASS_NAMES, x_train=x_train, y_train=y_train, x_test=x_test,
                y_test=y_test)


def _lesson_02(request):
    from cifar_helpers.convolution import conv2d
    from cifar_helpers.examples import SEED_IMAGE

    return dict(conv2d=conv2d, SEED_IMAGE=SEED_IMAGE,
                cross=np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]]))       # section 5


def _lesson_03(request):
    from cifar_helpers.convolution import conv2d
    from cifar_helpers.filters import apply_filter

    step = np.zeros((5, 12), dtype=np.uint8)                              # section 4
    step[:, :6] = 50
    step[:, 6:] = 150
    return dict(conv2d=conv2d, apply_filter=apply_filter, step=step)


def _lesson_04(request):
    from cifar_helpers.convolution import conv2d
    from cifar_helpers.examples import SEED_IMAGE, STRIDE_GRID
    from cifar_helpers.windows import output_size, pad_amounts

    return dict(conv2d=conv2d, output_size=output_size, pad_amounts=pad_amounts,
                SEED_IMAGE=SEED_IMAGE, STRIDE_GRID=STRIDE_GRID,
                ones=np.ones((3, 3), dtype=int))                          # section 1


def _lesson_05(request):
    from cifar_helpers.activations import relu, sigmoid, tanh
    from cifar_helpers.layers_numpy import dense

    rng = np.random.default_rng(0)                                        # section 3
    W1, b1 = rng.normal(size=(4, 3)).round(1), rng.normal(size=3).round(1)
    W2, b2 = rng.normal(size=(3, 2)).round(1), rng.normal(size=2).round(1)
    return dict(relu=relu, sigmoid=sigmoid, tanh=tanh, dense=dense, W1=W1, b1=b1, W2=W2, b2=b2)


def _lesson_06(request):
    import keras

    from cifar_helpers.pooling import pool2d

    rng = np.random.default_rng(0)                                        # section 3
    return dict(keras=keras, pool2d=pool2d, x=rng.normal(size=(7, 6, 3)).astype("float32"))


def _lesson_07(request):
    from cifar_helpers.activations import relu, softmax
    from cifar_helpers.convolution import conv2d
    from cifar_helpers.layers_numpy import dense, flatten
    from cifar_helpers.pooling import pool2d

    kernel = np.array([[0.5, -0.2, 0.1], [0.1, 0.4, -0.3],                # section 2
                       [-0.3, 0.2, 0.2], [0.2, -0.1, 0.3]])
    rng = np.random.default_rng(0)
    return dict(relu=relu, softmax=softmax, conv2d=conv2d, dense=dense, flatten=flatten,
                pool2d=pool2d, kernel=kernel, bias=np.array([0.1, 0.0, -0.2]),
                p1=rng.random((16, 16, 8)))           # the pooled map: only its shape matters


def _lesson_11(request):
    from cifar_helpers import clustering

    rng = np.random.default_rng(0)   # 300 stand-in feature vectors, 30 of each class
    return dict(clustering=clustering, SEED=0, hand_vectors=rng.normal(size=(300, 14)),
                labels=np.arange(300) % 10)


def _lesson_12(request):
    import keras

    from cifar_helpers.optimizers import triangular_learning_rate

    return dict(triangular_learning_rate=triangular_learning_rate, keras=keras)


CONTEXTS = {"01": _lesson_01, "02": _lesson_02, "03": _lesson_03, "04": _lesson_04,
            "05": _lesson_05, "06": _lesson_06, "07": _lesson_07, "11": _lesson_11,
            "12": _lesson_12}

# answer variable -> (right answer, wrong answers); a callable gets the cell's namespace.
ANSWERS = {
    "01": {
        "my_ship_means": ([126.13, 133.77, 140.96],
                          [[125.27, 122.93, 113.86],                # the whole training set
                           [140.96, 133.77, 126.13]]),              # channels reversed
        "my_brightest": (9881, [9880, 0]),                          # an index is exact
        "my_gray": (lambda ns: (0.299 * ns["x_train"][7][..., 0] + 0.587 * ns["x_train"][7][..., 1]
                                + 0.114 * ns["x_train"][7][..., 2]),
                    [lambda ns: ns["x_train"][7].mean(axis=2),      # plain average
                     lambda ns: ns["x_train"][7] @ [0.299, 0.587, 0.114] / 255]),
    },
    "02": {
        "my_feature_map": ([[3, 5, 3], [2, 4, 5], [2, 4, 3]],
                           [[[4, 3, 4], [2, 4, 3], [2, 3, 4]]]),    # the X kernel's map
        "my_shape": ((28, 28, 16), [(30, 30, 16), (28, 28, 3)]),
        "my_weights": (1200, [1216, 400]),                          # + biases; one channel
    },
    "03": {
        "my_blurred": ([75, 125], [[83.3, 116.7], [50, 150]]),      # box blur; no blur
        "my_flat_outputs": ((200, 50), [(2, 0.5), (100, 100)]),
        "my_corner_fraction": (4 / 9, [5 / 9, 1 / 9]),
    },
    "04": {
        "my_output": ([[108, 135], [378, 405]], [[[108, 126], [288, 306]]]),   # stride 2
        "my_size_padded": (16, [17, 15]),
        "my_size_same": (16, [32]),
        "my_zeros_for_7": (3, [6, 7]),
        "my_last_row": ([1, 2, 1, 0, 0], [[1, 3, 3, 1, 0], [0, 1, 1, 0, 0]]),
    },
    "05": {
        "my_relu": ([0, 2], [[2, 2], [-2, 2]]),
        "my_sigmoid": ([0.119, 0.881], [[0.881, 0.119], [0.5, 0.5]]),
        "my_tanh": ([-0.964, 0.964], [[0.964, 0.964], [-0.762, 0.762]]),
        "my_kernel": ([[0.485, -0.58], [0.335, -0.82], [-1.99, 0.5], [1.295, 0.275]],
                      [[[0.56, -0.15], [0.48, -0.29], [-1.88, -0.22], [1.09, 0.41]]]),  # W1 W2
        "my_bias": ([2.115, 1.045], [[1.87, 0.49]]),                 # the two layers' bias
    },
    "06": {
        "my_max_3x3": ([[5, 7], [8, 6]], [[[12 / 9, 21 / 9], [20 / 9, 2]]]),   # averages
        "my_average_2x2": ([[1.5, 2, 1.25], [1.75, 2.25, 3], [3, 1.25, 1.75]],
                           [[[6, 8, 5], [7, 9, 12], [12, 5, 7]]]),             # sums
        "my_shape_valid": ((3, 3, 16), [(4, 4, 16), (3, 3)]),
        "my_shape_same": ((4, 4, 16), [(7, 7, 16), (3, 3, 16)]),
        "my_shape_3_by_2_same": ((4, 4, 16), [(3, 3, 16)]),
        "my_global_average": (lambda ns: ns["x"].mean(axis=(0, 1)),
                              [lambda ns: ns["x"].max(axis=(0, 1)), lambda ns: ns["x"].mean()]),
    },
    "07": {
        "my_index": (426, [427, 666]),                              # r and c swapped
        "my_scores": ([0.8, -0.3, 0.2], [[0.7, -0.3, 0.4]]),          # without the bias
        "my_probabilities": ([0.665, 0.245, 0.090], [[2 / 3, 1 / 3, 0]]),
        "my_dense_weights": (10250, [10240, 20490]),                # no biases; the lesson's model
    },
    "11": {
        "my_purity": (6 / 10, [5 / 10]),
        "my_matched_accuracy": (5 / 10, [6 / 10]),
        "my_unnamed_clusters": (10, [0, 20]),
    },
    "12": {
        "my_learning_rate": (0.9375, [0.75, 0.9]),
        "my_normalized": (1.3415, [1.1619, 0.6, 3.0]),      # variance / (n - 1); no root; no scale
    },
}


def _exercise_cells(name):
    """The sources of the lesson's code cells after "## Exercises" that call check_answer."""
    cells = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]
    start = next(i for i, cell in enumerate(cells)
                 if cell["cell_type"] == "markdown" and "## Exercises" in "".join(cell["source"]))
    sources = ["".join(cell["source"]) for cell in cells[start:] if cell["cell_type"] == "code"]
    return [source for source in sources if "check_answer(" in source]


def _check_calls(source):
    """Each ``check_answer(name, expected, **keywords)`` call: the name and the source texts."""
    calls = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check_answer":
            answer, expected = node.args
            keywords = {k.arg: ast.get_source_segment(source, k.value) for k in node.keywords}
            calls.append((answer.id, ast.get_source_segment(source, expected), keywords))
    return calls


def _value(answer, namespace):
    return answer(namespace) if callable(answer) else answer


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_exercise_checks_reject_wrong_answers(lesson, request, capsys):
    cells = _exercise_cells(LESSONS[lesson])
    assert cells, f"lesson {lesson} has no exercise cell calling check_answer"
    namespace = {"np": np, **CONTEXTS[lesson](request)}   # shared by the cells, as in Jupyter
    checked = set()
    for source in cells:
        exec(compile(source, f"lesson {lesson} exercise", "exec"), namespace)
        capsys.readouterr()   # the cell's own output: every check still says "Fill in ..."
        for name, expected_source, keyword_sources in _check_calls(source):
            assert namespace[name] is Ellipsis, f"{name} should be left as ... in the lesson"
            expected = eval(expected_source, namespace)
            keywords = {k: eval(v, namespace) for k, v in keyword_sources.items()}
            right, wrongs = ANSWERS[lesson][name]
            assert check_answer(..., expected, **keywords).message == FILL_IN
            verdict = check_answer(_value(right, namespace), expected, **keywords)
            assert verdict, f"lesson {lesson}, {name}: the right answer got {verdict!r}"
            for wrong in wrongs:
                verdict = check_answer(_value(wrong, namespace), expected, **keywords)
                assert not verdict, f"lesson {lesson}, {name}: accepted the wrong answer {wrong}"
                assert verdict.message.startswith("Not yet: "), verdict.message
            checked.add(name)
    assert checked == set(ANSWERS[lesson]), f"lesson {lesson}: checks and ANSWERS differ"


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_exercises_link_their_worked_solutions(lesson):
    name = LESSONS[lesson]
    link = f"Worked solutions: [solutions/{name}](solutions/{name})."
    cells = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]
    markdown = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]
    assert any(text.rstrip().endswith(link) for text in markdown), f"{name}: no '{link}' line"
    assert (NOTEBOOKS / "solutions" / name).is_file()
