"""Hidden checks of ``compare_models(y_true, pred_a, pred_b, alpha=0.05)`` (2 points).

While these run, the reference's mcnemar_table and mcnemar_test stand in for the
student's, so a mistake there is not charged twice.
"""

import numpy as np

from autograder.check import case, check

CALLEES = ("mcnemar_table", "mcnemar_test")
HINTS = {
    "table": "Build the table with mcnemar_table(y_true, pred_a, pred_b).",
    "statistic": "Use mcnemar_test(table) with its default settings.",
    "p_value": "Use mcnemar_test(table) with its default settings.",
    "significant": "significant is p_value < alpha, strictly.",
    "better": "'better' is 'A' when significant and b > c (b: A right, B wrong), 'B' when c > b, else None.",
}


def verdict(expected, actual):
    """Compare the result dicts key by key, the table as an array."""
    from autograder.compare import same, same_array

    if not isinstance(actual, dict):
        return f"should return a dict, got {type(actual).__name__}"
    if set(actual) != set(expected):
        return f"keys should be {sorted(expected)}, got {sorted(map(str, actual))}"
    table = np.asarray(actual["table"]) if isinstance(actual["table"], (list, np.ndarray)) else actual["table"]
    problem = same_array(np.asarray(expected["table"]), table) if isinstance(table, np.ndarray) else "not 2x2"
    if problem:
        return f"['table']: {problem}"
    for key in ("statistic", "p_value", "significant", "better"):
        problem = same(expected[key], actual[key])
        if problem:
            return f"[{key!r}]: {problem}"
    return None


def emails_for(table):
    """Phishing emails whose (A correct?, B correct?) counts are ``table``: y_true, pred_a, pred_b."""
    (both, a_only), (b_only, neither) = table
    n = both + a_only + b_only + neither
    a = [1] * (both + a_only) + [0] * (b_only + neither)
    b = [1] * both + [0] * a_only + [1] * b_only + [0] * neither
    return [1] * n, np.array(a), np.array(b)


def _thirty_for_a():
    y = np.array([1] * 40 + [0] * 60)
    b = y.copy()
    b[:30] = 0  # B misses 30 phishing emails A catches
    return y, b


@check(points=0.5, hint=HINTS, lend=CALLEES)
def test_reports_table_test_and_the_better_model(compare_models):
    """The result holds the table, mcnemar_test's statistic and p-value, and 'better' names the model with
    more wins among discordant pairs when the difference is significant."""
    y, b = _thirty_for_a()
    compare_models.agrees_on([
        case(y, y.copy(), b, expect={"table": [[70, 30], [0, 0]], "statistic": 28.03, "p_value": 1.192e-07,
                                     "significant": True, "better": "A"}),
        case(y, b, y.copy(), expect={"table": [[70, 0], [30, 0]], "statistic": 28.03, "p_value": 1.192e-07,
                                     "significant": True, "better": "B"},
             why="c > b: B wins the discordant pairs, so 'better' is 'B'."),
        case(y, y.copy(), y.copy(), expect={"table": [[100, 0], [0, 0]], "statistic": 0.0, "p_value": 1.0,
                                            "significant": False, "better": None}),
        case(*emails_for([[2, 20], [2, 6]]), expect={"table": [[2, 20], [2, 6]], "statistic": 2.0,
                                                     "p_value": 0.0001211, "significant": True, "better": "A"},
             why="b = table[0][1] = 20 against c = table[1][0] = 2; the diagonal plays no part."),
        case(*emails_for([[20, 20], [2, 6]]), expect={"table": [[20, 20], [2, 6]], "statistic": 2.0,
                                                      "p_value": 0.0001211, "significant": True, "better": "A"},
             why="b = table[0][1] = 20 against c = table[1][0] = 2; the diagonal plays no part."),
    ], compare=verdict)


@check(points=0.5, hint=HINTS, lend=CALLEES)
def test_p_value_equal_to_alpha_is_not_significant(compare_models):
    """significant is p_value < alpha, strictly: a p-value exactly at alpha is not significant."""
    y = np.zeros(20, dtype=int)
    a = y.copy()
    a[:5] = 1  # five discordant pairs, all won by B: exact p = 2 * 0.5**5 = 0.0625
    compare_models.agrees_on([
        case(y, a, y.copy(), alpha=0.0625, expect={"table": [[15, 0], [5, 0]], "statistic": 0.0,
                                                   "p_value": 0.0625, "significant": False, "better": None},
             why="p_value == alpha is not significant: the rule is p_value < alpha."),
        case(y, a, y.copy(), alpha=0.0626, expect={"table": [[15, 0], [5, 0]], "statistic": 0.0,
                                                   "p_value": 0.0625, "significant": True, "better": "B"}),
        case(y, y.copy(), a, alpha=0.0625, expect={"table": [[15, 5], [0, 0]], "statistic": 0.0,
                                                   "p_value": 0.0625, "significant": False, "better": None}),
    ], compare=verdict)


@check(points=1.0, hint=HINTS, lend=CALLEES)
def test_random_model_pairs(compare_models, rng):
    """150 random pairs of models, with alpha from 0.01 to 0.2, get the reference's verdict."""
    compare_models.agrees_on(random_model_pairs(rng, 150), compare=verdict)


def random_model_pairs(rng, count):
    """5 to 300 emails, each model right 60-100 % of the time; alpha given half the time."""
    cases = []
    for _ in range(count):
        n = int(rng.integers(5, 300))
        y = rng.integers(0, 2, n)
        a = np.where(rng.random(n) < rng.uniform(0.6, 1.0), y, 1 - y)
        b = np.where(rng.random(n) < rng.uniform(0.6, 1.0), y, 1 - y)
        alpha = {"alpha": float(rng.choice([0.01, 0.05, 0.1, 0.2]))} if rng.random() < 0.5 else {}
        cases.append(case(y.tolist(), a, b, **alpha))
    return cases
