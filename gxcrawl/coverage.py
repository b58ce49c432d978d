"""Coverage: which agency published its report for which year, on time or late, and which did
not publish at all — an agency × year grid written as `coverage.csv` and a `coverage.png`
heatmap (matplotlib, headless)."""

from __future__ import annotations

import csv
import logging
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gxcrawl.store.workbench import CoverageReport

ON_TIME = "on_time"  # published by its deadline (days_late ≤ 0)
LATE = "late"  # published after its deadline
UNDATED = "undated"  # published; its publish date is unknown
MISSING = "missing"  # no report of this agency for this year in the store
STATUSES = (ON_TIME, LATE, UNDATED, MISSING)
CSV_COLUMNS = (
    "agency", "year", "status", "days_late", "publish_date", "url", "portal_id", "province",
)  # fmt: skip

# Heatmap colours per status (colour-blind safe: blue, orange, grey, light red).
COLOURS = {ON_TIME: "#3b7dd8", LATE: "#f28e2b", UNDATED: "#a0a0a0", MISSING: "#fbe3e3"}
ROW_INCHES = 0.28  # one agency row: fits a 9-point CJK label
MAX_FIGURE_INCHES = 60  # a whole country's grid stays a viewable PNG
LABELLED_ROWS = 150  # beyond this many agencies the names are unreadable: drop them
CJK_FONTS = ["WenQuanYi Zen Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "DejaVu Sans"]


@dataclass(frozen=True)
class Cell:
    agency: str
    year: int
    status: str
    report: CoverageReport | None


def _status(report: CoverageReport) -> str:
    if report.days_late is None:
        return UNDATED
    return LATE if report.days_late > 0 else ON_TIME


def coverage_grid(
    reports: Sequence[CoverageReport], years: Iterable[int] | None = None
) -> list[Cell]:
    """One cell per agency × year over `years` (default: the first to the last year any report
    covers), agencies sorted by name."""
    by_key = {(r.agency, r.year): r for r in reports}
    span = sorted(set(years)) if years is not None else _year_span(reports)
    cells = []
    for agency in sorted({r.agency for r in reports}):
        for year in span:
            report = by_key.get((agency, year))
            status = _status(report) if report else MISSING
            cells.append(Cell(agency, year, status, report))
    return cells


def _year_span(reports: Sequence[CoverageReport]) -> list[int]:
    if not reports:
        return []
    first, last = min(r.year for r in reports), max(r.year for r in reports)
    return list(range(first, last + 1))


def write_csv(cells: Sequence[Cell], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for c in cells:
            r = c.report
            writer.writerow(
                [c.agency, c.year, c.status]
                + (
                    [r.days_late, r.publish_date, r.url, r.portal_id, r.province]
                    if r
                    else [None, None, None, None, None]
                )
            )
    return path


def write_heatmap(cells: Sequence[Cell], path: Path, title: str) -> Path:
    """The grid as a PNG: agencies down, years across, one colour per status."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    # Font fallback notes are not the operator's business.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    agencies = sorted({c.agency for c in cells})
    years = sorted({c.year for c in cells})
    codes = {s: i for i, s in enumerate(STATUSES)}
    grid = [[codes[MISSING]] * len(years) for _ in agencies]
    row, col = {a: i for i, a in enumerate(agencies)}, {y: i for i, y in enumerate(years)}
    for c in cells:
        grid[row[c.agency]][col[c.year]] = codes[c.status]
    height = min(MAX_FIGURE_INCHES, 1.8 + ROW_INCHES * max(1, len(agencies)))
    with plt.rc_context({"font.sans-serif": CJK_FONTS, "font.family": "sans-serif"}):
        fig, ax = plt.subplots(figsize=(max(4.0, 1.2 + 0.6 * len(years)) + 3, height))
        cmap = ListedColormap([COLOURS[s] for s in STATUSES])
        ax.imshow(grid or [[codes[MISSING]]], cmap=cmap, vmin=0, vmax=len(STATUSES) - 1,
                  aspect="auto", interpolation="nearest")  # fmt: skip
        ax.set_xticks(range(len(years)), [str(y) for y in years], rotation=90)
        labelled = len(agencies) <= LABELLED_ROWS
        ax.set_yticks(range(len(agencies)) if labelled else [], agencies if labelled else [])
        ax.set_title(title)
        ax.legend(handles=[Patch(color=COLOURS[s], label=s) for s in STATUSES],
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a machine without CJK fonts draws boxes, not errors
            fig.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(fig)
    return path


def summary(cells: Sequence[Cell]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for c in cells:
        counts[c.status] += 1
    return counts
