"""Every chapter draws its figures in the course's one style, with its colour-blind-safe palette."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

from phishlab import plotting

matplotlib.use("Agg")

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(path for path in BOOK.rglob("*.md") if "{code-cell}" in path.read_text(encoding="utf-8"))
# Neutral colours that carry no category; everything else comes from PALETTE.
NEUTRAL = {"black", "white", "none", "k", "w"}
# Sequential colour maps that stay readable with colour-vision deficiencies and in greyscale.
SAFE_COLOUR_MAPS = {"Blues", "Greys", "Oranges", "viridis", "cividis", "magma", "inferno", "Blues_r", "viridis_r"}
COLOUR_KEYWORD = re.compile(r"\b(?:color|colors|facecolor|edgecolor|fc|ec|mfc|mec)\s*=\s*[\"']([^\"']+)[\"']")
COLOUR_MAP = re.compile(r"\bcmap\s*=\s*[\"']([^\"']+)[\"']")


def code_cells(chapter: Path) -> list[str]:
    return re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", chapter.read_text(encoding="utf-8"), flags=re.S)


def draws(code: str) -> bool:
    return bool(re.search(r"\bplt\.|\.subplots\(|\bplot_\w+\(|\.plot\(", code))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: str(path.relative_to(BOOK)))
def test_chapters_that_draw_use_the_course_style(chapter):
    cells = code_cells(chapter)
    if not any(draws(cell) for cell in cells):
        pytest.skip("this chapter draws no figure")
    assert any("use_course_style()" in cell for cell in cells), f"{chapter.name} draws without use_course_style()"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: str(path.relative_to(BOOK)))
def test_chapters_take_colours_only_from_the_palette(chapter):
    literals = [colour for cell in code_cells(chapter) for colour in COLOUR_KEYWORD.findall(cell)]
    assert [colour for colour in literals if colour not in NEUTRAL] == []
    maps = [name for cell in code_cells(chapter) for name in COLOUR_MAP.findall(cell)]
    assert set(maps) <= SAFE_COLOUR_MAPS


def test_the_palette_is_okabe_ito():
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000", "#999999"}
    assert {colour.upper() for colour in plotting.PALETTE.values()} <= okabe_ito


def test_the_course_style_cycles_through_the_palette():
    with plotting.course_style():
        cycle = [entry["color"].upper() for entry in matplotlib.rcParams["axes.prop_cycle"]]
    assert cycle and set(cycle) <= {colour.upper() for colour in plotting.PALETTE.values()}


# A label names its quantity and, in brackets, its unit; categorical and date axes need no unit.
AXIS_LABEL = re.compile(r"""(?:set_[xy]label\(\s*|\b[xy]label=)f?(["'])(.*?)(?<!\\)\1""")
NEEDS_NO_UNIT = re.compile(r"\bclass\b|\bDate\b|\b20\d\d\b")
PACKAGE = Path(plotting.__file__).parent


def axis_labels() -> list[tuple[str, str]]:
    """(file, label) for every literal axis label in the chapters and the package's plotting code."""
    sources = [*CHAPTERS, *sorted(PACKAGE.glob("*.py"))]
    return [(path.name, match.group(2)) for path in sources
            for match in AXIS_LABEL.finditer(path.read_text(encoding="utf-8"))]


def test_every_axis_label_gives_its_unit():
    labels = axis_labels()
    assert len(labels) >= 25, "too few axis labels found: is the pattern still right?"
    assert [(name, label) for name, label in labels if "(" not in label and not NEEDS_NO_UNIT.search(label)] == []
