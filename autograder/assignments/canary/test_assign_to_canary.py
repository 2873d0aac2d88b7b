"""Hidden checks of ``assign_to_canary(email_ids, fraction, salt="v2.0")`` (3 points).

Any sticky, monotone, process-independent bucketing is accepted, so only the
fractions 0 and 1 and the bad fractions are compared with the reference's
answers; every other check asserts a property of the student's own answers.

Sticky means per id, whatever the batch, in every Python process. Each check of
it first asks for the arms of a batch twice here and once in a second
interpreter started with another hash seed, then changes the batch (order,
other ids, duplicates, two calls): an assignment that depends on the batch or
on the process fails all of them, and those checks carry 2 of the 3 points.
"""

import numpy as np
import pandas as pd

from autograder.check import Raises, case, check

PER_ID = ("Derive each id's number u in [0, 1) from a hash of the salt and that id alone (e.g. SHA-256 of "
          "f'{salt}:{email_id}' with hashlib), never from its position in the batch, the other ids or a "
          "seeded random generator.")


def _arms(answer, ids):
    """The answer as the checks read it: a bool NumPy array with one entry per id."""
    shape = f"shape {answer.shape} and dtype {answer.dtype}" if isinstance(answer, np.ndarray) \
        else type(answer).__name__
    assert isinstance(answer, np.ndarray) and answer.dtype == bool and answer.shape == (len(ids),), \
        f"assign_to_canary should return a NumPy array of bool with one entry per id ({len(ids)}), got {shape}"
    return answer


def _moved(ids, wanted, got):
    """How many ids changed arms, and one of them as an example."""
    changed = np.flatnonzero(np.asarray(wanted) != np.asarray(got))
    if changed.size == 0:
        return 0, ""
    first = int(changed[0])
    arm = "the canary" if wanted[first] else "the control arm"
    return int(changed.size), f"e.g. {ids[first]!r}, which was in {arm} before"


def sticky_arms(assign_to_canary, ids, fraction, salt):
    """The arms of ``ids``, once a repeated call and a second Python process have given the same ones."""
    here = _arms(assign_to_canary(ids, fraction, salt=salt), ids)
    again = _arms(assign_to_canary(ids, fraction, salt=salt), ids)
    moved, example = _moved(ids, here, again)
    assert moved == 0, (f"Not sticky: calling assign_to_canary twice with the same {len(ids)} ids, fraction "
                        f"{fraction} and salt {salt!r} put {moved} ids in other arms ({example}). Derive each "
                        "id's arm from a hash of the salt and the id, not from a random draw.")
    there = _arms(assign_to_canary.in_another_process(ids, fraction, salt=salt), ids)
    moved, example = _moved(ids, here, there)
    assert moved == 0, (f"Not sticky across processes: a second Python process put {moved} of {len(ids)} ids "
                        f"in other arms ({example}). Python's built-in hash() of a string is randomised per "
                        "process (PYTHONHASHSEED); hash with hashlib instead (e.g. SHA-256 of "
                        "f'{salt}:{email_id}'), which is the same everywhere.")
    return here


def _batch(rng, n):
    """Ids, a fraction and a salt for a stickiness check."""
    return random_email_ids(rng, n), round(float(rng.uniform(0.2, 0.8)), 3), str(rng.choice(["v2.0", "v3.0", "exp-7"]))


@check(points=0.2, hint="Return a bool NumPy array with one entry per id: all False at fraction 0 (nobody), "
                        "all True at fraction 1 (everybody), and an empty array for no ids.")
def test_fraction_0_sends_nobody_and_fraction_1_everybody(assign_to_canary):
    """fraction = 0 sends nobody to the canary and fraction = 1 everybody, for ids in a list, an array or a
    Series; no ids give an empty bool array."""
    ids = [f"20241001-{i:04d}" for i in range(40)]
    assign_to_canary.agrees_on([
        case(ids, 0.0, expect=[False] * 40),
        case(ids, 1.0, expect=[True] * 40, why="u is in [0, 1), so u < 1 for every id: fraction 1 sends all."),
        case(ids[:1], 1.0, expect=[True]),
        case(ids[:1], 0.0, expect=[False], why="u < 0 never holds: fraction 0 sends nobody."),
        case(ids, 0, salt="v3.0", expect=[False] * 40),
        case(ids, 1, salt="", expect=[True] * 40),
        case(np.array(ids[:10]), 0.0, expect=[False] * 10),
        case(pd.Series(ids[:10]), 1.0, expect=[True] * 10),
        case([], 0.5, expect=[], why="No ids: an empty bool array."),
    ])


@check(points=0.2, hint="Derive each id's arm from a hash of the salt and the id made with hashlib (e.g. SHA-256 "
                        "of f'{salt}:{email_id}'): not from random draws, and not with the built-in hash(), which "
                        "changes from process to process.")
def test_same_arms_in_every_call_and_in_another_python_process(assign_to_canary, rng):
    """Sticky: the same ids and salt land in the same arms in every call and in every Python process (so not
    with the built-in hash(), which is randomised per process)."""
    for n, fraction in ((2000, 0.1), (2000, 0.5), (500, 0.9)):
        sticky_arms(assign_to_canary, random_email_ids(rng, n), fraction, "v2.0")


@check(points=0.5, hint=PER_ID)
def test_arm_of_an_id_does_not_depend_on_the_order_of_the_batch(assign_to_canary, rng):
    """Sticky per id: reversing or shuffling the batch moves no id to the other arm."""
    ids, fraction, salt = _batch(rng, 1500)
    arms = sticky_arms(assign_to_canary, ids, fraction, salt)
    backwards = _arms(assign_to_canary(ids[::-1], fraction, salt=salt), ids)[::-1]
    moved, example = _moved(ids, arms, backwards)
    assert moved == 0, (f"Not sticky per id: reversing the order of {len(ids)} ids put {moved} of them in the "
                        f"other arm ({example}).")
    order = rng.permutation(len(ids))
    shuffled = _arms(assign_to_canary([ids[i] for i in order], fraction, salt=salt), ids)
    moved, example = _moved([ids[i] for i in order], arms[order], shuffled)
    assert moved == 0, f"Not sticky per id: shuffling the batch put {moved} ids in the other arm ({example})."


@check(points=0.5, hint=PER_ID)
def test_arm_of_an_id_does_not_depend_on_the_other_ids_in_the_batch(assign_to_canary, rng):
    """Sticky per id: some of the ids passed on their own, or a single id, land in the same arms as in the
    whole batch."""
    ids, fraction, salt = _batch(rng, 1500)
    arms = sticky_arms(assign_to_canary, ids, fraction, salt)
    chosen = np.sort(rng.choice(np.arange(100, len(ids)), size=200, replace=False))
    part = [ids[i] for i in chosen]
    moved, example = _moved(part, arms[chosen], _arms(assign_to_canary(part, fraction, salt=salt), part))
    assert moved == 0, (f"Not sticky per id: {len(part)} of the ids, passed without the others, put {moved} of "
                        f"them in other arms than in the whole batch ({example}).")
    for i in (int(chosen[-1]), int(chosen[len(chosen) // 2])):
        alone = _arms(assign_to_canary([ids[i]], fraction, salt=salt), [ids[i]])
        assert bool(alone[0]) == bool(arms[i]), (
            f"Not sticky per id: {ids[i]!r} passed on its own lands in the "
            f"{'canary' if alone[0] else 'control arm'}, but in the {'canary' if arms[i] else 'control arm'} "
            f"within a batch of {len(ids)} ids.")


@check(points=0.5, hint=PER_ID)
def test_a_repeated_id_lands_in_the_same_arm_each_time(assign_to_canary, rng):
    """Sticky per id: a batch holding some ids twice or more puts every copy in the arm the id has on its own."""
    ids, fraction, salt = _batch(rng, 600)
    arms = sticky_arms(assign_to_canary, ids, fraction, salt)
    picks = np.concatenate([np.arange(300), np.arange(300), np.arange(100, 200), np.full(5, 7)])
    batch = [ids[i] for i in picks]
    moved, example = _moved(batch, arms[picks], _arms(assign_to_canary(batch, fraction, salt=salt), batch))
    assert moved == 0, (f"Not sticky per id: in a batch of {len(batch)} with repeated ids, {moved} copies "
                        f"landed in another arm than the id has in the batch without repeats ({example}). An id "
                        "repeated in a batch must land in the same arm each time.")


@check(points=0.5, hint=PER_ID)
def test_a_batch_split_across_two_calls_gets_the_same_arms(assign_to_canary, rng):
    """Sticky per id: the ids of one batch split across two calls land in the same arms as in one call."""
    ids, fraction, salt = _batch(rng, 1500)
    arms = sticky_arms(assign_to_canary, ids, fraction, salt)
    cut = int(rng.integers(300, 1200))
    first = _arms(assign_to_canary(ids[:cut], fraction, salt=salt), ids[:cut])
    second = _arms(assign_to_canary(ids[cut:], fraction, salt=salt), ids[cut:])
    moved, example = _moved(ids, arms, np.concatenate([first, second]))
    assert moved == 0, (f"Not sticky per id: splitting {len(ids)} ids into two calls ({cut} and "
                        f"{len(ids) - cut} ids) put {moved} of them in other arms than one call ({example}).")


@check(points=0.2, hint="Compare one hash-derived number u per id with fraction (u < fraction): u must not "
                        "depend on fraction.")
def test_monotone_in_fraction(assign_to_canary, rng):
    """Monotone: an id in the canary at a smaller fraction is also in it at every larger fraction."""
    for salt in ("v2.0", "exp-7"):
        ids = random_email_ids(rng, 2000)
        fractions = sorted({0.1, 0.5, *(round(float(f), 3) for f in rng.uniform(0.01, 0.99, 3))})
        arms = [_arms(assign_to_canary(ids, fraction, salt=salt), ids) for fraction in fractions]
        for (low, smaller), (high, larger) in zip(zip(fractions, arms), zip(fractions[1:], arms[1:])):
            dropped = np.flatnonzero(smaller & ~larger)
            assert dropped.size == 0, (
                f"Not monotone: {dropped.size} ids in the canary at fraction {low} are not in it at the larger "
                f"fraction {high} (e.g. {ids[int(dropped[0])]!r}, salt {salt!r}).")


@check(points=0.2, hint="Map the hash to a number u spread uniformly over [0, 1) and compare it with fraction.")
def test_canary_share_is_within_sampling_error_of_fraction(assign_to_canary, rng):
    """The canary's share of 5000 ids is within sampling error (5 standard errors) of fraction."""
    for i, fraction in enumerate((0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)):
        ids = random_email_ids(rng, 5000)
        share = float(np.mean(_arms(assign_to_canary(ids, fraction, salt=f"s{i}"), ids)))
        tolerance = 5 * np.sqrt(fraction * (1 - fraction) / len(ids)) + 1 / len(ids)
        assert abs(share - fraction) <= tolerance, (
            f"With fraction {fraction} the canary got {share:.4f} of {len(ids)} ids; expected {fraction} "
            f"+- {tolerance:.4f}.")


@check(points=0.1, hint="Include the salt in what you hash (e.g. f'{salt}:{email_id}'), hash with hashlib "
                        "(SHA-256, MD5, BLAKE2) and use many of its bits: a checksum such as zlib.crc32 is linear, "
                        "so the splits of two salts are related, and a few coarse buckets round the fraction.")
def test_another_salt_gives_an_independent_split(assign_to_canary, rng):
    """Another salt gives an independent split: about fraction x fraction of the ids are in both canaries."""
    ids = random_email_ids(rng, 6000)
    for fraction, first, second in ((0.5, "v2.0", "v3.0"), (0.2, "a", "b")):
        one = _arms(assign_to_canary(ids, fraction, salt=first), ids)
        other = _arms(assign_to_canary(ids, fraction, salt=second), ids)
        both, expected = float(np.mean(one & other)), fraction * fraction
        tolerance = 5 * np.sqrt(expected * (1 - expected) / len(ids)) + 0.01
        assert abs(both - expected) <= tolerance, (
            f"Salts {first!r} and {second!r} at fraction {fraction} put {both:.3f} of the ids in both canaries; "
            f"independent splits put about {expected:.3f} there: the salt must change the split.")


@check(points=0.1, hint="Raise ValueError when fraction < 0 or fraction > 1.")
def test_value_error_for_a_fraction_outside_0_1(assign_to_canary):
    """A fraction outside [0, 1] raises ValueError."""
    assign_to_canary.agrees_on([
        case(["a", "b"], -0.1, expect=Raises(ValueError)),
        case(["a", "b"], 1.0001, expect=Raises(ValueError)),
        case(["a", "b"], 2, expect=Raises(ValueError)),
        case(["a", "b"], -1e-9, expect=Raises(ValueError)),
        case([], 1.5, expect=Raises(ValueError)),
    ])


def random_email_ids(rng, n):
    """n distinct ids in one style: dated email ids ('20241003-0042'), user numbers ('user-83412') or a
    numbered sequence ('train-17')."""
    style = int(rng.integers(0, 3))
    if style == 0:
        return [f"2024{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}-{i:04d}" for i in range(n)]
    if style == 1:
        return [f"user-{int(x)}" for x in rng.choice(10**9, size=n, replace=False)]
    return [f"train-{i}" for i in range(n)]
