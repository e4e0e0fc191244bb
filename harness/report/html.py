"""Render the view-model to one self-contained HTML page with jinja2.

Autoescaping is on for every template: model outputs, item texts, labels and
file names are untrusted, and must reach the reader as text, never as markup.
The only markup inserted unescaped is our own: the stylesheet, the sorting
script and matplotlib's SVG (whose writer escapes the text inside it).
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from harness import __version__
from harness.report import format as fmt
from harness.report.build import ReportView
from harness.report.calibration import calibration_section
from harness.report.failures import modes_for, problems_title

TEMPLATES = Path(__file__).parent / "templates"
VERDICT_LABELS = {
    "clear": "clear",
    "tied": "tied: cheapest chosen",
    "inconclusive": "inconclusive",
    "none": "no result",
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=fmt.num,
        pvalue=fmt.pvalue,
        signed=fmt.signed,
        pct=fmt.pct,
        seconds=fmt.seconds,
        megabytes=fmt.megabytes,
        size_bytes=fmt.size_bytes,
        count=fmt.count,
        share=fmt.share,
        sentence=fmt.sentence,
    )
    env.globals["rank_format"] = fmt.RANK_FORMAT
    return env


def page_assets() -> dict:
    """Stylesheet and script, inlined; the script's hash goes into the page's Content-Security-Policy."""
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    script = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    return {
        "css": Markup(css),
        "script": Markup(script),
        "script_hash": f"sha256-{digest}",
        "bench_version": __version__,
    }


def render_report(view: ReportView, plots: dict[str, str]) -> str:
    template = environment().get_template("report.html.j2")
    config = view.manifest.get("resolved_config")
    return template.render(
        view=view,
        plots=plots,
        verdict_labels=VERDICT_LABELS,
        label_rows=label_rows(view),
        failure_modes=modes_for(view.task_type, max_new_tokens=view.max_new_tokens, **task_config(view)),
        problems_title=problems_title(view.task_type),
        config_json=json.dumps(config, indent=2) if config else "",
        plot_note="This figure needs matplotlib (pip install matplotlib)." if not plots else "No data for this figure.",
        calibration=calibration_section(view, draw=bool(plots)),  # drawn only where the other figures are
        **page_assets(),
    )


def task_config(view: ReportView) -> dict:
    """The run's resolved task section: the values a task type's failure-mode help names (min_rouge_l, ...)."""
    return dict(((view.manifest.get("resolved_config") or {}).get("task")) or {})


def label_rows(view: ReportView) -> list[str]:
    """The task's labels in their own order, then any other label seen in the data; none for a task without labels."""
    if not view.measures.labelled:
        return []
    seen = list(view.task.get("labels") or [])
    for split in view.splits:
        seen += [label for label in split.labels if label not in seen]
    return seen
