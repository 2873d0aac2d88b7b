"""Known mistakes of the ``mcnemar`` assignment, as edits of the reference solution.

Each entry names one misconception a student's answer can show; see
:mod:`autograder.mistakes` for how the graders and the tests use them.

Not listed, because it is not a mistake: ``better`` decided by comparing the
two models' accuracies (A's accuracy exceeds B's exactly when b > c).
"""

from autograder.mistakes import Mistake

MISTAKES = [
    # --- mcnemar_table -----------------------------------------------------------------------------
    Mistake(
        "table_counts_predictions", "mcnemar_table",
        "Count whether each model was correct (its prediction equals y_true), not whether it predicted 1.",
        replace={"a_right = first == truth": "a_right = first == 1",
                 "b_right = second == truth": "b_right = second == 1"},
    ),
    Mistake(
        "table_transposed", "mcnemar_table",
        "Wrong orientation: rows are model A and columns model B, so table[0][1] counts A correct and B wrong, "
        "table[1][0] A wrong and B correct.",
        replace={"[np.sum(a_right & b_right), np.sum(a_right & ~b_right)]":
                 "[np.sum(a_right & b_right), np.sum(~a_right & b_right)]",
                 "[np.sum(~a_right & b_right), np.sum(~a_right & ~b_right)]":
                 "[np.sum(a_right & ~b_right), np.sum(~a_right & ~b_right)]"},
    ),
    Mistake(
        "table_zip_truncates", "mcnemar_table",
        "Raise a ValueError when y_true, pred_a and pred_b differ in length; do not silently cut them to the "
        "shortest one (as zip() does).",
        replace={'    if not truth.size == first.size == second.size:\n'
                 '        raise ValueError(\n'
                 '            f"inputs differ in length: {truth.size}, {first.size} and {second.size}"\n'
                 '        )\n':
                 "    shortest = min(truth.size, first.size, second.size)\n"
                 "    truth, first, second = truth[:shortest], first[:shortest], second[:shortest]\n"},
    ),
    # --- mcnemar_test ------------------------------------------------------------------------------
    Mistake(
        "accepts_negative_counts", "mcnemar_test",
        "Raise a ValueError when the table holds a negative count: counts of emails cannot be negative.",
        replace={'    if np.any(counts < 0):\n        raise ValueError("table counts must be non-negative")\n': ""},
    ),
    Mistake(
        "chi2_wrong_df", "mcnemar_test",
        "McNemar's chi-square test has 1 degree of freedom (it compares b with c): "
        "take the p-value from the chi-square distribution with df=1.",
        replace={"stats.chi2.sf(statistic, df=1)": "stats.chi2.sf(statistic, df=2)"},
    ),
    Mistake(
        "continuity_ignored", "mcnemar_test",
        "With correction=True use the continuity correction, statistic (|b - c| - 1)^2 / n; "
        "only correction=False gives (b - c)^2 / n.",
        replace={"continuity = 1 if correction else 0": "continuity = 0"},
    ),
    Mistake(
        "exact_not_capped", "mcnemar_test",
        "The doubled exact p-value must be capped at 1: p = min(1, 2 * P[Bin(n, 1/2) <= min(b, c)]) "
        "(when b == c the doubled tail exceeds 1).",
        replace={"min(1.0, 2 * stats.binom.cdf(smaller, discordant, 0.5))":
                 "2 * stats.binom.cdf(smaller, discordant, 0.5)"},
    ),
    Mistake(
        "exact_not_doubled", "mcnemar_test",
        "The exact test is two-sided: double the smaller binomial tail, "
        "p = min(1, 2 * P[Bin(n, 1/2) <= min(b, c)]).",
        replace={"min(1.0, 2 * stats.binom.cdf(": "min(1.0, stats.binom.cdf("},
    ),
    Mistake(
        "exact_threshold_inclusive", "mcnemar_test",
        "exact=None means the exact test when n < 25, strictly: n = 25 discordant pairs use the chi-square test.",
        replace={"discordant < 25 if exact is None": "discordant <= 25 if exact is None"},
    ),
    Mistake(
        "uses_diagonal", "mcnemar_test",
        "Use the discordant counts b = table[0][1] and c = table[1][0] (exactly one model right), "
        "not the diagonal.",
        replace={"int(counts[0, 1]), int(counts[1, 0])": "int(counts[0, 0]), int(counts[1, 1])"},
    ),
    Mistake(
        "zero_discordant_divides", "mcnemar_test",
        "With no discordant pairs (n = 0) return (0.0, 1.0) in every mode, before computing the test: "
        "the chi-square statistic divides by n = 0.",
        replace={"    if discordant == 0:\n        return 0.0, 1.0\n": "",
                 "int(counts[0, 1]), int(counts[1, 0])": "counts[0, 1], counts[1, 0]"},
    ),
    # --- compare_models ----------------------------------------------------------------------------
    Mistake(
        "better_reversed", "compare_models",
        "'better' is 'A' when b > c: b = table[0][1] counts the emails where A is right and B is wrong.",
        replace={'better = "A" if table[0, 1] > table[1, 0] else "B"':
                 'better = "B" if table[0, 1] > table[1, 0] else "A"'},
    ),
    Mistake(
        "better_without_significance", "compare_models",
        "Name a better model only when the difference is significant; otherwise 'better' is None "
        "(these emails do not show a difference).",
        replace={"if significant and table[0, 1] != table[1, 0]:": "if table[0, 1] != table[1, 0]:"},
    ),
    Mistake(
        "compare_models_forces_chi_square", "compare_models",
        "Run mcnemar_test(table) with its default settings (the exact test when n < 25), "
        "not forced to the chi-square test with exact=False.",
        replace={"mcnemar_test(table)": "mcnemar_test(table, exact=False)"},
    ),
    Mistake(
        "significance_from_chi_square", "compare_models",
        "Decide significance with the p-value you return, from mcnemar_test's default settings "
        "(the exact test when n < 25), not with the chi-square p-value.",
        replace={"significant = bool(p_value < alpha)":
                 "significant = bool(mcnemar_test(table, exact=False)[1] < alpha)"},
    ),
    Mistake(
        "significant_not_strict", "compare_models",
        "Significant means p_value < alpha, strictly: a p-value equal to alpha is not significant.",
        replace={"significant = bool(p_value < alpha)": "significant = bool(p_value <= alpha)"},
    ),
]
