"""Mutation testing of the graders: how many plausible wrong programs do they reject?

A *mutant* is the reference solution of one graded function with one small
edit of the kind a student's slip makes -- ``<`` for ``<=``, ``+ 1`` forgotten,
``abs`` dropped, a validation ``raise`` removed. The graders *kill* a mutant when
it loses at least one point; a mutant that keeps full marks *survives*, and is
either a gap in the checks or *equivalent* (it computes the same function, so
no check could tell). Equivalent mutants are listed, each with its reason, in
``autograder/assignments/<id>/equivalent_mutants.toml``.

Mutants are made with the standard :mod:`ast` module: each edit replaces the
text of one node of the answer cell, so the rest of the cell keeps its layout
and a mutant reads as a one-line diff.

Examples
--------
>>> mutant = next(m for m in generate("mcnemar") if m.operator == "comparison")
>>> mutant.function, mutant.key
('mcnemar_table', 'if not truth.size == first.size == second.size: → if not (truth.size != first.size == second.size):')
"""

from __future__ import annotations

import ast
import difflib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder.reference import ROOT, reference_cells

OPERATORS = ("comparison", "arithmetic", "constant", "off_by_one", "swapped_arguments", "dropped_call",
             "removed_raise", "negated_condition", "wrong_return", "boolean", "augmented_assignment")
"""The kinds of edit, each a slip a student makes."""

_COMPARISON = {ast.Lt: (ast.LtE, ast.Gt), ast.LtE: (ast.Lt, ast.GtE), ast.Gt: (ast.GtE, ast.Lt),
               ast.GtE: (ast.Gt, ast.LtE), ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,),
               ast.In: (ast.NotIn,), ast.NotIn: (ast.In,), ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,)}
_ARITHMETIC = {ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div,), ast.Div: (ast.Mult, ast.FloorDiv),
               ast.FloorDiv: (ast.Div,), ast.Pow: (ast.Mult,), ast.Mod: (ast.FloorDiv,),
               ast.BitAnd: (ast.BitOr,), ast.BitOr: (ast.BitAnd,)}
_AUGMENTED = {ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div,), ast.Div: (ast.Mult,)}
_SWAPPED_STRINGS = {"left": "right", "right": "left", "big": "little", "little": "big"}
# Calls whose result a slip can leave out: f(x) -> x, and min/max(a, b) -> a or b.
_DROPPABLE = {"abs", "sorted", "min", "max", "round", "float", "int", "bool", "list", "any", "all",
              "np.abs", "np.sort", "np.min", "np.max", "np.round", "np.minimum", "np.maximum", "np.unique",
              "np.asarray", "np.array", "np.ravel"}
_RANGES = {"range", "np.arange", "np.linspace"}


@dataclass(frozen=True)
class Mutant:
    """One edit of one graded function's reference answer cell.

    ``key`` names the mutant in reports and in the list of equivalent mutants:
    the changed line before and after (unique within a function).
    """

    function: str
    operator: str
    line: int
    key: str
    source: str
    original: str

    def diff(self) -> str:
        """The edit as a unified diff of the answer cell."""
        return "".join(difflib.unified_diff(self.original.splitlines(keepends=True),
                                            self.source.splitlines(keepends=True),
                                            f"reference/{self.function}", f"mutant/{self.function}", n=1))


def generate(assignment: str, root: Path = ROOT) -> list[Mutant]:
    """Every mutant of every graded function of ``assignment``, in notebook order.

    Parameters
    ----------
    assignment : str
        The assignment id.
    root : Path
        The course folder (its ``solutions/`` holds the reference).

    Returns
    -------
    list of Mutant
        Each compiles and differs from the reference; no two are the same code.
    """
    from autograder.assignments import get

    cells = reference_cells(assignment, root)
    mutants = []
    for function in get(assignment).functions:
        mutants += _mutants_of(function, cells[function])
    return mutants


def _mutants_of(function: str, source: str) -> list[Mutant]:
    tree = ast.parse(source)
    definition = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == function)
    seen, keys, mutants = {source}, set(), []
    for operator, node, text in _edits(definition):
        if isinstance(text, ast.AST):  # a part of the node kept as written, e.g. the argument of a dropped call
            text = f"({ast.get_source_segment(source, text)})"
        mutated = _replace(source, node, text)
        if mutated in seen:
            continue
        try:
            ast.parse(mutated)
        except SyntaxError:
            continue
        seen.add(mutated)
        key = _key(source, mutated)
        while key in keys:
            key += " (again)"
        keys.add(key)
        mutants.append(Mutant(function, operator, node.lineno, key, mutated, source))
    return mutants


def _key(original: str, mutated: str) -> str:
    before, after = [], []
    for line in difflib.ndiff(original.splitlines(), mutated.splitlines()):
        if line.startswith("- "):
            before.append(line[2:].strip())
        elif line.startswith("+ "):
            after.append(line[2:].strip())
    return f"{' '.join(before)} → {' '.join(after)}"


# -- the edits ----------------------------------------------------------------------------------------------


def _edits(definition: ast.FunctionDef) -> Iterator[tuple[str, ast.AST, str | ast.AST]]:
    """``(operator, node, new text of the node)`` for every edit of the function, in source order.

    The new text may be a part of the node to keep as written (the argument of a dropped call).
    """
    skipped = _messages_and_docstrings(definition)
    local_names = _local_names(definition)
    nodes = [node for node in ast.walk(definition) if hasattr(node, "lineno") and node not in skipped]
    nodes.sort(key=lambda node: (node.lineno, node.col_offset))
    for node in nodes:
        if isinstance(node, ast.Return) and node.value is not None:
            yield from (("wrong_return", part, text) for part, text in _wrong_returns(node.value, local_names))
        for operator, text in _edits_of(node):
            yield operator, node, text


def _edits_of(node: ast.AST) -> Iterator[tuple[str, str | ast.AST]]:
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for other in _COMPARISON.get(type(op), ()):
                yield "comparison", _expression(ast.Compare(node.left, [*node.ops[:i], other(), *node.ops[i + 1:]],
                                                            node.comparators))
    elif isinstance(node, ast.BinOp):
        for other in _ARITHMETIC.get(type(node.op), ()):
            yield "arithmetic", _expression(ast.BinOp(node.left, other(), node.right))
    elif isinstance(node, ast.Constant):
        for value in _nudged(node.value):
            # Strings in the project's double quotes, so the diff shows only the change.
            yield "constant", f'"{value}"' if isinstance(value, str) else _expression(ast.Constant(value))
    elif isinstance(node, ast.Slice):
        for bound in ("lower", "upper"):
            expression = getattr(node, bound)
            if expression is not None and not isinstance(expression, ast.Constant):
                for text in _plus_minus_one(expression):
                    nudged = ast.parse(text, mode="eval").body
                    yield "off_by_one", ast.unparse(ast.Slice(**{**_fields(node), bound: nudged}))
    elif isinstance(node, ast.Call):
        yield from _call_edits(node)
    elif isinstance(node, ast.Raise):
        yield "removed_raise", "pass"
    elif isinstance(node, (ast.If, ast.While)):
        header = _expression(ast.UnaryOp(ast.Not(), node.test))
        yield "negated_condition", header
    elif isinstance(node, ast.IfExp):
        yield "negated_condition", _expression(ast.IfExp(ast.UnaryOp(ast.Not(), node.test), node.body, node.orelse))
    elif isinstance(node, ast.BoolOp):
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield "boolean", _expression(ast.BoolOp(other, node.values))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert, ast.USub)):
        yield "boolean" if not isinstance(node.op, ast.USub) else "arithmetic", _expression(node.operand)
    elif isinstance(node, ast.AugAssign):
        yield "augmented_assignment", ast.unparse(ast.Assign([node.target], node.value, lineno=0))
        for other in _AUGMENTED.get(type(node.op), ()):
            yield "augmented_assignment", ast.unparse(ast.AugAssign(node.target, other(), node.value))


def _call_edits(node: ast.Call) -> Iterator[tuple[str, str | ast.AST]]:
    name = ast.unparse(node.func)
    positional = [a for a in node.args if not isinstance(a, ast.Starred)]
    if name in _DROPPABLE and len(positional) == len(node.args) and node.args:
        if len(node.args) == 1:
            yield "dropped_call", node.args[0]
        elif name in ("min", "max", "np.minimum", "np.maximum") and len(node.args) == 2:
            yield from (("dropped_call", argument) for argument in node.args)
    if name in _RANGES:
        for i, argument in enumerate(node.args[:2]):
            if not isinstance(argument, ast.Constant):
                for text in _plus_minus_one(argument):
                    changed = [*node.args[:i], ast.parse(text, mode="eval").body, *node.args[i + 1:]]
                    yield "off_by_one", _expression(ast.Call(node.func, changed, node.keywords))
    if len(positional) == len(node.args):
        for i in range(len(node.args) - 1):
            first, second = node.args[i], node.args[i + 1]
            if ast.dump(first) != ast.dump(second):
                swapped = [*node.args[:i], second, first, *node.args[i + 2:]]
                yield "swapped_arguments", _expression(ast.Call(node.func, swapped, node.keywords))


def _wrong_returns(value: ast.expr, local_names: set[str]) -> Iterator[tuple[ast.AST, str]]:
    """``(node, new text)``: the returned pair in the other order, or another local variable in place of one."""
    if isinstance(value, ast.Tuple) and len(value.elts) == 2:
        yield value, ast.unparse(ast.Tuple(value.elts[::-1], ast.Load()))
    names = [n for n in ast.walk(value) if isinstance(n, ast.Name) and n.id in local_names]
    used = sorted({n.id for n in names})
    for name in sorted(names, key=lambda n: (n.lineno, n.col_offset)):
        for other in used:
            if other != name.id:
                yield name, other


def _nudged(value) -> list:
    """A constant as a slip changes it: 0 <-> 1, n -> n +- 1, 0.5 <-> 1.0, x -> 2x, True <-> False."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [1] if value == 0 else [value - 1, value + 1]
    if isinstance(value, float):
        return {0.0: [1.0], 0.5: [1.0, 0.0], 1.0: [0.0, 0.5]}.get(value, [value * 2, value / 2])
    if isinstance(value, str):
        return [_SWAPPED_STRINGS[value]] if value in _SWAPPED_STRINGS else []
    return []


def _plus_minus_one(expression: ast.expr) -> list[str]:
    text = ast.unparse(expression)
    return [f"({text}) + 1", f"({text}) - 1"]


def _expression(node: ast.expr) -> str:
    """The node's code, in parentheses unless atomic, so it keeps its meaning in any context."""
    text = ast.unparse(node)
    atomic = isinstance(node, (ast.Name, ast.Constant, ast.Call, ast.Attribute, ast.Subscript))
    negative = isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and node.value < 0
    return text if atomic and not negative else f"({text})"


def _fields(node: ast.AST) -> dict:
    return {name: getattr(node, name) for name in node._fields}


def _local_names(definition: ast.FunctionDef) -> set[str]:
    arguments = definition.args
    names = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
    for node in ast.walk(definition):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _messages_and_docstrings(definition: ast.FunctionDef) -> set[ast.AST]:
    """Nodes no slip is worth modelling in: error messages (inside a raise) and docstrings."""
    skipped = set()
    for node in ast.walk(definition):
        if isinstance(node, ast.Raise):
            skipped |= {inner for inner in ast.walk(node) if inner is not node}
        if isinstance(node, ast.JoinedStr):
            skipped |= set(ast.walk(node))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body \
                and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            skipped |= set(ast.walk(node.body[0]))
    return skipped


def _replace(source: str, node: ast.AST, text: str) -> str:
    """``source`` with the code of ``node`` replaced by ``text`` (``ast`` offsets count UTF-8 bytes)."""
    lines = source.splitlines(keepends=True)
    first, last = node.lineno - 1, node.end_lineno - 1
    head = lines[first].encode()[:node.col_offset].decode()
    tail = lines[last].encode()[node.end_col_offset:].decode()
    if isinstance(node, (ast.If, ast.While)):  # only the condition of a block changes
        test = node.test
        head = lines[test.lineno - 1].encode()[:test.col_offset].decode()
        tail = lines[test.end_lineno - 1].encode()[test.end_col_offset:].decode()
        first, last = test.lineno - 1, test.end_lineno - 1
    return "".join(lines[:first]) + head + text + tail + "".join(lines[last + 1:])


# -- equivalent mutants --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Equivalent:
    """Mutants that compute what the reference computes, and why.

    An entry names one mutant by its ``mutant`` key, or every mutant of a
    source ``line`` (written as in the reference, stripped) -- for a line whose
    value reaches no output.
    """

    function: str
    reason: str
    mutant: str = ""
    line: str = ""

    def covers(self, mutant: Mutant) -> bool:
        if mutant.function != self.function:
            return False
        return mutant.key == self.mutant if self.mutant else mutant.key.split(" → ")[0] == self.line


def equivalent_mutants(assignment: str) -> list[Equivalent]:
    """The reviewed list in ``autograder/assignments/<assignment>/equivalent_mutants.toml`` (may be absent).

    Raises
    ------
    ValueError
        If an entry lacks its function or reason, or names neither one mutant nor one line.
    """
    from autograder.assignments import get

    path = get(assignment).folder / "equivalent_mutants.toml"
    if not path.exists():
        return []
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("equivalent", [])
    listed = []
    for number, entry in enumerate(entries, start=1):
        missing = [field for field in ("function", "reason") if not str(entry.get(field, "")).strip()]
        if missing:
            raise ValueError(f"{path}: entry {number} lacks {', '.join(missing)}")
        if bool(entry.get("mutant")) == bool(entry.get("line")):
            raise ValueError(f"{path}: entry {number} must name either one mutant or one line")
        listed.append(Equivalent(entry["function"], entry["reason"], entry.get("mutant", ""), entry.get("line", "")))
    return listed

