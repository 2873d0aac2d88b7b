"""Grading tools for the course's nbgrader assignments (for teaching assistants).

Nothing here is imported by the book or shipped to students: the reference
solutions are read from the instructor notebooks in ``solutions/``.
"""

ASSIGNMENTS: dict[str, tuple[str, ...]] = {
    "ks_drift": ("ks_statistic", "ks_drift_report", "drift_score", "performance_alerts", "should_retrain"),
    "mcnemar": ("mcnemar_table", "mcnemar_test", "compare_models"),
    "canary": ("assign_to_canary", "canary_decision", "run_canary_rollout"),
}
"""The graded functions of each assignment, in the order the notebook asks for them."""
