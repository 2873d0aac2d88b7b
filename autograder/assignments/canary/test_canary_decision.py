"""Hidden checks of ``canary_decision(control, canary, max_fpr_ratio=1.5, min_negatives=50)`` (3 points).

"hold" if either arm has fewer than min_negatives negatives (fp + tn), or none at
all; otherwise "rollback" if canary FPR > max_fpr_ratio x control FPR, strictly;
otherwise "healthy". FPR = fp / (fp + tn).
"""

from fractions import Fraction

from autograder.check import case, check

RULE = ("hold if either arm has fewer than min_negatives negatives (fp + tn) or none; otherwise rollback if "
        "canary FPR > max_fpr_ratio x control FPR (strictly); otherwise healthy.")


def arm(fp, tn, tp=5, fn=1):
    """The counts of one arm."""
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn}


CONTROL = arm(4, 396, tp=40, fn=2)  # FPR 4 / 400 = 1 %


@check(points=0.5, hint="Hold when either arm, the control arm included, has fewer than min_negatives "
                        "negatives: fp + tn, not all of its emails.")
def test_hold_when_either_arm_has_fewer_than_min_negatives_negatives(canary_decision):
    """"hold" if either arm has fewer than min_negatives negatives (fp + tn): too little evidence to judge."""
    canary_decision.agrees_on([
        case(CONTROL, arm(1, 20), expect="hold", why="The canary has 21 negatives < 50."),
        case(arm(0, 30), arm(1, 99), expect="hold", why="The control arm has 30 negatives < 50: either arm counts."),
        case(CONTROL, arm(0, 45, tp=30, fn=2), expect="hold",
             why="45 negatives < 50, although the arm has 77 emails: min_negatives counts fp + tn."),
        case(arm(0, 49, tp=500), arm(0, 200), expect="hold"),
        case(CONTROL, arm(0, 50), expect="healthy", why="Exactly min_negatives negatives are enough to decide."),
        case(arm(1, 49), arm(1, 49), expect="healthy"),
        case(arm(1, 49), arm(1, 48), expect="hold"),
        case(arm(1, 48), arm(9, 91), expect="hold", why="The control arm has 49 negatives < 50."),
        case(arm(0, 10), arm(0, 10), min_negatives=10, expect="healthy"),
        case(arm(0, 9), arm(3, 7), min_negatives=10, expect="hold", why="The control arm has 9 negatives < 10."),
        case(CONTROL, arm(1, 20), min_negatives=20, expect="rollback",
             why="21 negatives >= min_negatives=20, and 1/21 > 1.5 x 1 %."),
    ])


@check(points=0.5, hint="An arm with no negatives (fp + tn = 0) has no FPR: return 'hold', also when "
                        "min_negatives is 0.")
def test_an_arm_with_no_negatives_always_holds_even_with_min_negatives_0(canary_decision):
    """An arm with no negatives always gives "hold", even with min_negatives = 0: its FPR is undefined."""
    canary_decision.agrees_on([
        case(arm(0, 0, tp=7), arm(2, 98), min_negatives=0, expect="hold",
             why="The control arm has no negatives: its FPR is undefined, so hold even with min_negatives=0."),
        case(arm(0, 200), arm(0, 0, tp=3), min_negatives=0, expect="hold",
             why="The canary has no negatives: its FPR is undefined, so hold even with min_negatives=0."),
        case(arm(0, 0, tp=0, fn=0), arm(0, 0, tp=0, fn=0), min_negatives=0, expect="hold"),
        case(arm(0, 0, tp=50, fn=50), arm(5, 95), max_fpr_ratio=2.0, min_negatives=0, expect="hold"),
        case(arm(0, 1), arm(1, 0), min_negatives=0, expect="rollback",
             why="One negative in each arm is enough with min_negatives=0: canary FPR 1 > 1.5 x 0."),
        case(arm(3, 1), arm(1, 3), min_negatives=0, expect="healthy"),
    ])


@check(points=0.5, hint="Compare false-positive rates fp / (fp + tn) of the two arms, not their counts.")
def test_rollback_when_the_canary_fpr_exceeds_max_fpr_ratio_times_the_control_fpr(canary_decision):
    """Otherwise "rollback" if canary FPR > max_fpr_ratio x control FPR, the rates fp / (fp + tn); else
    "healthy"."""
    canary_decision.agrees_on([
        case(CONTROL, arm(3, 97, tp=10), expect="rollback",
             why="Canary FPR 3 % > 1.5 x 1 %; its 3 false positives are fewer than the control's 4, but the "
                 "rates decide."),
        case(CONTROL, arm(1, 99, tp=10), expect="healthy", why="Canary FPR 1 % <= 1.5 x 1 %."),
        case(arm(10, 990), arm(9, 91), expect="rollback"),
        case(arm(30, 70), arm(40, 160), expect="healthy",
             why="Canary FPR 20 % <= 1.5 x 30 %, although the canary has more false positives."),
        case(CONTROL, arm(3, 97), max_fpr_ratio=4.0, expect="healthy", why="3 % <= 4.0 x 1 %."),
        case(arm(10, 90, tp=500, fn=500), arm(10, 40, tp=500, fn=500), expect="rollback",
             why="Only negatives enter the FPR: 10/50 = 20 % > 1.5 x 10 %."),
    ])


@check(points=0.5, hint="Roll back only when the canary FPR is strictly greater than max_fpr_ratio x the "
                        "control FPR: exactly at the limit is healthy.")
def test_a_canary_fpr_exactly_at_the_limit_is_healthy(canary_decision):
    """Rollback needs canary FPR strictly greater than max_fpr_ratio x control FPR: exactly equal is healthy."""
    canary_decision.agrees_on([
        case(arm(1, 63), arm(3, 125), expect="healthy",
             why="Canary FPR 3/128 is exactly 1.5 x 1/64: not strictly greater, so healthy."),
        case(arm(1, 63), arm(4, 124), expect="rollback"),
        case(arm(2, 98), arm(3, 97), expect="healthy", why="Canary FPR 3 % is exactly 1.5 x 2 %: healthy."),
        case(arm(2, 98), arm(4, 96), expect="rollback"),
        case(arm(5, 95), arm(5, 95), max_fpr_ratio=1.0, expect="healthy",
             why="Equal FPRs with max_fpr_ratio=1.0: not strictly greater, so healthy."),
        case(arm(5, 95), arm(6, 94), max_fpr_ratio=1.0, expect="rollback"),
        case(arm(5, 95), arm(10, 90), max_fpr_ratio=2.0, expect="healthy",
             why="10 % is exactly 2.0 x 5 %: healthy."),
        case(arm(5, 95), arm(11, 89), max_fpr_ratio=2.0, expect="rollback"),
    ])


@check(points=0.25, hint="With a control FPR of 0, any canary false positive is more than max_fpr_ratio x 0: "
                         "roll back.")
def test_with_a_control_fpr_of_0_any_canary_false_positive_rolls_back(canary_decision):
    """With a control FPR of 0, any canary false positive rolls back; no false positives in either arm is
    healthy."""
    canary_decision.agrees_on([
        case(arm(0, 200), arm(1, 99), expect="rollback", why="Canary FPR 1 % > 1.5 x 0."),
        case(arm(0, 500), arm(1, 499), max_fpr_ratio=100.0, expect="rollback"),
        case(arm(0, 200), arm(0, 100), expect="healthy", why="0 > 1.5 x 0 does not hold: healthy."),
        case(arm(0, 500), arm(0, 60), expect="healthy"),
    ])


@check(points=0.75, hint=RULE)
def test_random_count_pairs(canary_decision, rng):
    """400 random pairs of arms, with max_fpr_ratio and min_negatives given or left to their defaults, get the
    reference's decision."""
    canary_decision.agrees_on(random_count_pairs(rng, 400))


def random_count_pairs(rng, count):
    """Counts 0-150 per cell; a control FPR of 0 or an arm without negatives now and then; max_fpr_ratio
    1.0-3.0 and min_negatives 0-100 given 70 % of the time. No pair has FPRs exactly at the limit (those are
    written out above), so computing with rates or with cross-multiplied counts agrees."""
    cases = []
    while len(cases) < count:
        control, canary = _random_arm(rng), _random_arm(rng)
        if rng.random() < 0.2:
            control["fp"] = 0
        if rng.random() < 0.05:
            (control, canary)[int(rng.integers(0, 2))].update(fp=0, tn=0)
        kwargs = {"max_fpr_ratio": float(rng.choice([1.0, 1.25, 1.5, 2.0, 3.0])),
                  "min_negatives": int(rng.choice([0, 1, 10, 50, 100]))} if rng.random() < 0.7 else {}
        if _at_the_limit(control, canary, kwargs.get("max_fpr_ratio", 1.5)):
            continue
        cases.append(case(control, canary, **kwargs))
    return cases


def _random_arm(rng):
    """tp, fp, tn and fn, each from 0 to 149."""
    return dict(zip(("tp", "fp", "tn", "fn"), (int(count) for count in rng.integers(0, 150, 4))))


def _at_the_limit(control, canary, ratio):
    """Whether the canary FPR is exactly ratio x the control FPR (a tie only the hand-picked cases test)."""
    negatives = control["fp"] + control["tn"], canary["fp"] + canary["tn"]
    if 0 in negatives or canary["fp"] == 0:
        return False
    return Fraction(canary["fp"], negatives[1]) == Fraction(ratio) * Fraction(control["fp"], negatives[0])
