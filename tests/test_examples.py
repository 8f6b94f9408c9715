"""Tests for cifar_helpers.examples: the tutorial's worked inputs."""

import numpy as np
import pytest
from scipy.signal import correlate2d

from cifar_helpers.examples import SEED_IMAGE, SEED_KERNEL, STRIDE_GRID


def test_seed_image_is_the_tutorials_binary_image():
    rows = ["11100", "01110", "00111", "00110", "01100"]
    expected = np.array([[int(ch) for ch in row] for row in rows])
    np.testing.assert_array_equal(SEED_IMAGE, expected)
    assert SEED_IMAGE.shape == (5, 5)
    assert set(np.unique(SEED_IMAGE)) == {0, 1}


def test_seed_kernel_is_an_x_of_ones():
    np.testing.assert_array_equal(SEED_KERNEL, [[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    np.testing.assert_array_equal(SEED_KERNEL, SEED_KERNEL[::-1, ::-1])  # symmetric


def test_stride_grid_rows_count_in_tens():
    assert STRIDE_GRID.shape == (8, 7)
    for r in range(8):
        np.testing.assert_array_equal(STRIDE_GRID[r], np.arange(10 * r + 1, 10 * r + 8))


@pytest.mark.parametrize("array", [SEED_IMAGE, SEED_KERNEL, STRIDE_GRID])
def test_examples_are_read_only_integers(array):
    assert array.dtype.kind == "i"
    assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        array[0, 0] = 99


def test_seed_answer_by_an_independent_reference():
    np.testing.assert_array_equal(
        correlate2d(SEED_IMAGE, SEED_KERNEL, mode="valid"), [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
    )


def test_stride_answer_by_hand_sums():
    sums = [
        [int(STRIDE_GRID[r : r + 3, c : c + 3].sum()) for c in range(0, 5, 2)]
        for r in range(0, 6, 2)
    ]
    assert sums == [[108, 126, 144], [288, 306, 324], [468, 486, 504]]
    assert [row[:2] for row in sums[:2]] == [[108, 126], [288, 306]]  # the tutorial's figure
