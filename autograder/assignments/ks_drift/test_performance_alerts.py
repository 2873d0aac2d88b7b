"""Hidden checks of ``performance_alerts(baseline, current, tpr_drop=0.05, fpr_rise=0.50, precision_drop=0.10)``
(2 points).

TPR alert: current < baseline * (1 - tpr_drop); FPR alert: current > baseline * (1 + fpr_rise); precision
alert: current < baseline * (1 - precision_drop); all strict. Where the baseline is not 0 a rule may also
be written as a ratio (current / baseline < 1 - tpr_drop): the values exactly on a limit here are exact in
binary, so both readings agree on them, and no random input lies within rounding of a limit.
"""

from autograder.check import case, check

QUIET = {"tpr": False, "fpr": False, "precision": False}
BASE = {"tpr": 0.95, "fpr": 0.02, "precision": 0.90}
HALF = {"tpr": 0.5, "fpr": 0.25, "precision": 0.5}  # limits 0.375, 0.375, 0.25 with the thresholds below
HALF_LIMITS = {"tpr_drop": 0.25, "fpr_rise": 0.5, "precision_drop": 0.5}
METRICS = ("tpr", "fpr", "precision")
RULES = {
    "tpr": "TPR alert: current TPR < baseline TPR * (1 - tpr_drop), a limit relative to the baseline.",
    "fpr": "FPR alert: current FPR > baseline FPR * (1 + fpr_rise), a limit relative to the baseline.",
    "precision": "Precision alert: current precision < baseline precision * (1 - precision_drop), "
                 "a limit relative to the baseline.",
}


def alerts(**fired):
    """The answer with the named alerts fired."""
    return {**QUIET, **fired}


@check(points=0.25, hint=RULES)
def test_tpr_alert_below_its_relative_limit(performance_alerts):
    """The TPR alert fires when current TPR < baseline TPR * (1 - tpr_drop)."""
    performance_alerts.agrees_on([
        case(BASE, {**BASE, "tpr": 0.90}, expect=alerts(tpr=True),
             why="The limit is relative: 0.95 * (1 - 0.05) = 0.9025, and 0.90 < 0.9025 "
                 "(0.90 is not below 0.95 - 0.05, an absolute rule)."),
        case(BASE, {**BASE, "tpr": 0.91}, expect=alerts()),
        case(BASE, {**BASE, "tpr": 0.80}, tpr_drop=0.2, expect=alerts(),
             why="With tpr_drop=0.2 the limit is 0.95 * 0.8 = 0.76, and 0.80 is above it: use the tpr_drop passed in."),
        case(BASE, {**BASE, "tpr": 0.75}, tpr_drop=0.2, expect=alerts(tpr=True)),
        case(BASE, {**BASE, "tpr": 1.0}, expect=alerts()),
        case(HALF, {**HALF, "tpr": 0.374}, **HALF_LIMITS, expect=alerts(tpr=True)),
    ])


@check(points=0.25, hint=RULES)
def test_fpr_alert_above_its_relative_limit(performance_alerts):
    """The FPR alert fires when current FPR > baseline FPR * (1 + fpr_rise)."""
    performance_alerts.agrees_on([
        case(BASE, {**BASE, "fpr": 0.05}, expect=alerts(fpr=True),
             why="The limit is relative: 0.02 * (1 + 0.5) = 0.03, and 0.05 > 0.03 "
                 "(not 0.02 + 0.5, an absolute rule)."),
        case(BASE, {**BASE, "fpr": 0.025}, expect=alerts()),
        case(BASE, {**BASE, "fpr": 0.05}, fpr_rise=1.0, expect=alerts(fpr=True)),
        case(BASE, {**BASE, "fpr": 0.035}, fpr_rise=1.0, expect=alerts(),
             why="With fpr_rise=1.0 the limit is 0.02 * 2 = 0.04, and 0.035 is below it: use the fpr_rise passed in."),
        case(BASE, {**BASE, "fpr": 0.0}, expect=alerts()),
        case(HALF, {**HALF, "fpr": 0.376}, **HALF_LIMITS, expect=alerts(fpr=True)),
    ])


@check(points=0.25, hint="With a baseline FPR of 0 the limit is 0 * (1 + fpr_rise) = 0: any FPR above 0 alerts.")
def test_zero_baseline_fpr_alerts_on_any_false_positive(performance_alerts):
    """With a baseline FPR of 0 the FPR limit is 0: any FPR above 0 alerts, an FPR of 0 does not."""
    zero = {**BASE, "fpr": 0.0}
    performance_alerts.agrees_on([
        case(zero, {**BASE, "fpr": 0.001}, expect=alerts(fpr=True),
             why="A baseline FPR of 0 makes the limit 0 * 1.5 = 0, so an FPR of 0.001 alerts."),
        case(zero, {**BASE, "fpr": 0.001}, fpr_rise=10.0, expect=alerts(fpr=True)),
        case(zero, dict(zero), expect=alerts(),
             why="An FPR of 0 against a baseline of 0 is exactly on the limit 0: no alert."),
        case({"tpr": 0.9, "fpr": 0.0, "precision": 1.0}, {"tpr": 0.9, "fpr": 0.2, "precision": 1.0},
             expect=alerts(fpr=True)),
    ])


@check(points=0.25, hint=RULES)
def test_precision_alert_below_its_relative_limit(performance_alerts):
    """The precision alert fires when current precision < baseline precision * (1 - precision_drop)."""
    performance_alerts.agrees_on([
        case(BASE, {**BASE, "precision": 0.70}, expect=alerts(precision=True),
             why="The limit is relative: 0.90 * (1 - 0.10) = 0.81, and 0.70 < 0.81."),
        case(BASE, {**BASE, "precision": 0.85}, expect=alerts()),
        case(BASE, {**BASE, "precision": 0.70}, precision_drop=0.25, expect=alerts(),
             why="With precision_drop=0.25 the limit is 0.90 * 0.75 = 0.675, and 0.70 is above it: "
                 "use the precision_drop passed in."),
        case(BASE, {**BASE, "precision": 0.60}, precision_drop=0.25, expect=alerts(precision=True)),
        case(BASE, {"tpr": 0.95, "fpr": 0.02, "precision": 0.95}, expect=alerts()),
        case(HALF, {**HALF, "precision": 0.249}, **HALF_LIMITS, expect=alerts(precision=True)),
    ])


@check(points=0.25, hint="All three rules are strict (< and >): a metric exactly on its limit does not alert.")
def test_a_metric_exactly_on_its_limit_does_not_alert(performance_alerts):
    """All three comparisons are strict: a value exactly on its limit does not alert."""
    dyadic = {"tpr": 0.75, "fpr": 0.125, "precision": 0.875}
    limits = {"tpr_drop": 0.5, "fpr_rise": 1.0, "precision_drop": 0.25}
    performance_alerts.agrees_on([
        case(dyadic, {"tpr": 0.375, "fpr": 0.25, "precision": 0.65625}, **limits, expect=alerts(),
             why="Each metric is exactly on its limit (0.75 * 0.5 = 0.375, 0.125 * 2 = 0.25, "
                 "0.875 * 0.75 = 0.65625): the rules are strict, so nothing alerts."),
        case(HALF, {"tpr": 0.375, "fpr": 0.375, "precision": 0.25}, **HALF_LIMITS, expect=alerts(),
             why="Each metric is exactly on its limit (0.5 * 0.75 = 0.375, 0.25 * 1.5 = 0.375, 0.5 * 0.5 = 0.25): "
                 "the rules are strict, so nothing alerts."),
        case(BASE, dict(BASE), tpr_drop=0.0, fpr_rise=0.0, precision_drop=0.0, expect=alerts(),
             why="With no allowed change the limits are the baseline itself, and metrics equal to it do not alert."),
        case({"tpr": 1.0, "fpr": 0.5, "precision": 1.0}, {"tpr": 0.0, "fpr": 1.0, "precision": 0.0},
             tpr_drop=0.0, fpr_rise=0.0, precision_drop=0.0, expect=alerts(tpr=True, fpr=True, precision=True)),
    ])


@check(points=0.75, hint=RULES)
def test_random_metrics_and_thresholds(performance_alerts, rng):
    """On 300 random baselines, current metrics and thresholds each rule gives the reference's alert."""
    performance_alerts.agrees_on(random_metrics_and_thresholds(rng, 300))


def random_metrics_and_thresholds(rng, count):
    """Metrics drawn from (0, 1), a third of the time a small baseline FPR with a current FPR just above it;
    the thresholds drawn from 0 to 0.8 in 70 % of the cases, else the defaults. Cases where a metric lies
    within rounding of its limit (the product and ratio readings could differ) are left out."""
    cases = []
    while len(cases) < count:
        baseline = {k: float(v) for k, v in zip(METRICS, rng.uniform(0.001, 1, 3))}
        current = {k: float(v) for k, v in zip(METRICS, rng.uniform(0, 1, 3))}
        if rng.random() < 0.3:
            baseline["fpr"] = float(rng.uniform(0.001, 0.05))
            current["fpr"] = float(baseline["fpr"] + rng.uniform(0, 0.05))
        thresholds = {}
        if rng.random() < 0.7:
            thresholds = {name: float(v) for name, v in
                          zip(("tpr_drop", "fpr_rise", "precision_drop"), rng.uniform(0, 0.8, 3))}
        if _clear_of_limits(baseline, current, **thresholds):
            cases.append(case(baseline, current, **thresholds))
    return cases


def _clear_of_limits(baseline, current, tpr_drop=0.05, fpr_rise=0.50, precision_drop=0.10, rel=1e-9):
    """Whether every metric is farther than rounding from its limit, so products and ratios agree."""
    factors = {"tpr": 1 - tpr_drop, "fpr": 1 + fpr_rise, "precision": 1 - precision_drop}
    for metric, factor in factors.items():
        if abs(current[metric] / baseline[metric] - factor) <= rel * factor:
            return False
        if abs(current[metric] - baseline[metric] * factor) <= rel * baseline[metric] * factor:
            return False
    return True
