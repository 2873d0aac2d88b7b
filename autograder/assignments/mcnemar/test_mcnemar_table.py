"""Hidden checks of ``mcnemar_table(y_true, pred_a, pred_b)`` (3 points)."""

import numpy as np

from autograder.check import Raises, case, check

ORIENTATION = ("table = [[both correct, A correct & B wrong], [A wrong & B correct, both wrong]], "
               "as a 2x2 integer NumPy array.")


@check(points=1.0, hint=ORIENTATION)
def test_counts_each_pairing_of_correct_and_wrong(mcnemar_table):
    """table[0][1] counts emails A gets right and B wrong, table[1][0] the reverse, from any sequences."""
    mcnemar_table.agrees_on([
        case([1, 0, 1, 1], [1, 0, 0, 1], [1, 1, 1, 0], expect=[[1, 2], [1, 0]]),
        case(np.array([1, 1, 0, 0, 1, 0]), np.array([0, 1, 1, 0, 1, 0]), [1, 0, 0, 1, 1, 0],
             expect=[[2, 2], [2, 0]]),
        case([1], [1], [0], expect=[[0, 1], [0, 0]], why="A right and B wrong is table[0][1]."),
        case([1], [0], [1], expect=[[0, 0], [1, 0]], why="A wrong and B right is table[1][0]."),
        case([0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], expect=[[4, 0], [0, 0]]),
    ])


@check(points=0.5, hint="Correct means the prediction equals y_true, whatever the labels are.")
def test_correct_means_equal_to_the_label_for_any_labels(mcnemar_table):
    """Correctness is prediction == y_true, for text and multi-class labels too, not 'predicted 1'."""
    mcnemar_table.agrees_on([
        case(["a", "b", "a"], ["a", "a", "b"], ["b", "b", "a"], expect=[[0, 1], [2, 0]]),
        case([2, 0, 1, 2], [2, 1, 1, 0], [0, 0, 1, 2], expect=[[1, 1], [2, 0]]),
    ])


@check(points=1.0, hint=ORIENTATION)
def test_random_label_sets(mcnemar_table, rng):
    """The table is right on 200 random label sets: binary, three-class and text labels, lists and arrays."""
    mcnemar_table.agrees_on(random_label_sets(rng, 200))


@check(points=0.5, hint="Raise ValueError when the inputs differ in length or are empty.")
def test_value_error_for_different_lengths_or_empty_input(mcnemar_table):
    """Inputs of different lengths, or empty ones, raise ValueError."""
    mcnemar_table.agrees_on([
        case([0, 1], [0, 1], [0], expect=Raises(ValueError)),
        case([0, 1, 1], [0], [0, 1, 1], expect=Raises(ValueError)),
        case([], [], [], expect=Raises(ValueError)),
        case([1], [], [], expect=Raises(ValueError)),
    ])


def random_label_sets(rng, count):
    """Label sets of 1 to 120 emails; models right 50-100 % of the time; labels binary, 0-2 or text."""
    cases = []
    for _ in range(count):
        n = int(rng.integers(1, 120))
        kind = int(rng.integers(0, 3))
        y = _labels(rng, n, kind)
        a = np.where(rng.random(n) < rng.uniform(0.5, 1), y, _labels(rng, n, kind))
        b = np.where(rng.random(n) < rng.uniform(0.5, 1), y, _labels(rng, n, kind))
        cases.append(case(y.tolist(), a, b) if rng.random() < 0.5 else case(y, a.tolist(), b.tolist()))
    return cases


def _labels(rng, n, kind):
    if kind == 0:
        return rng.integers(0, 2, n)
    if kind == 1:
        return rng.integers(0, 3, n)
    return np.array(["legit", "phish"])[rng.integers(0, 2, n)]
