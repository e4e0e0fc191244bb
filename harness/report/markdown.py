"""A short Markdown summary of the same view, sized for a pull-request comment.

Text from the data (failure reasons, labels) is escaped so it cannot break the
table or turn into markup where the comment is rendered.
"""

from __future__ import annotations

from harness.report.build import ReportView, VariantView
from harness.report.format import DASH, megabytes, num, pct, seconds
from harness.report.recommend import NOT_RUN_PREFIX

VERDICT_WORDS = {"clear": "clear", "tied": "tied, cheapest chosen", "inconclusive": "inconclusive", "none": "none"}


_ESCAPES = {**{c: "\\" + c for c in "\\`*_[]|#"}, "<": "&lt;", ">": "&gt;"}


def md_text(text: object, limit: int = 160) -> str:
    """Plain text safe inside a Markdown table cell or list item: one line, markup characters escaped."""
    value = " ".join(str(text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return "".join(_ESCAPES.get(char, char) for char in value)


def md_code(text: object) -> str:
    """Inline code: nothing inside is markup, except a backtick (dropped) or a pipe (breaks a table row)."""
    return "`" + " ".join(str(text).split()).replace("`", "'").replace("|", "¦") + "`"


def interval(metric: dict) -> str:
    if not metric or metric.get("value") is None:
        return DASH
    return f"{num(metric['value'])} [{num(metric.get('ci_low'))}, {num(metric.get('ci_high'))}]"


def render_summary(view: ReportView) -> str:
    rec = view.recommendation
    lines = [f"### bench report: {md_text(view.suite.get('name', 'bench'))}, run {md_code(view.path.name)}", ""]
    lines.append(f"**Recommendation ({VERDICT_WORDS[rec.verdict]}):** {md_text(rec.headline, 700)}")
    lines.append("")
    lines += [f"- {md_text(line, 400)}" for line in rec.evidence[:3]]
    # Variants that did not finish get their own line below, with the reason.
    lines += [f"- ⚠ {md_text(line, 400)}" for line in rec.caveats if not line.startswith(NOT_RUN_PREFIX)][:4]
    lines.append("")
    lines.append(variant_table(view))
    if view.seeds:  # variants trained once per seed: the spread behind their means, and what it does to rankings
        lines += ["", *seed_lines(view)]
    not_run = [
        f"{md_code(v.name)} ({md_text(v.status)}{': ' + md_text(v.reason, 100) if v.reason else ''})"
        for v in view.not_run
    ]
    if not_run:
        lines += ["", "Did not finish: " + "; ".join(not_run) + "."]
    if view.judge:  # model-graded scores: how many judge replies could be read, next to the score
        lines += ["", *judge_lines(view.judge)]
    commit = view.manifest.get("git_commit")
    footer = (
        [f"{view.n_test} test items"]
        + ([f"commit {md_code(commit[:12])}"] if commit else [])
        + ["intervals are 95%", "full report: `report.html` in the run folder"]
    )
    lines += ["", "<sub>" + " · ".join(footer) + "</sub>", ""]
    return "\n".join(lines)


def variant_table(view: ReportView) -> str:
    m = view.measures
    header = (
        f"| variant | {m.headline.label} [95% CI] | {m.second.label} [95% CI] | {m.compliance.label} "
        "| vs base (fixed/broke) | train | peak memory |"
    )
    rows = [header, "|" + "---|" * 7]
    for v in view.table_order:
        if not v.ok:
            continue
        rows.append(
            "| "
            + " | ".join(
                [
                    _name(v),
                    interval(v.metric(m.headline.key)),
                    interval(v.metric(m.second.key)),
                    pct(v.metric("format_compliance").get("value")) if v.format_measured else v.format_note,
                    _vs_base(v),
                    seconds(v.cost.get("train_seconds")) if v.trains else DASH,
                    megabytes(v.cost.get("peak_cuda_mb") or v.cost.get("peak_rss_mb")),
                ]
            )
            + " |"
        )
    return "\n".join(rows)


def judge_lines(judge: dict) -> list[str]:
    """One line per judged variant: its judge score and how many of the judge's replies were read."""
    against = f" against {md_code(judge['reference'])}" if judge.get("mode") == "pairwise" else ""
    out = [
        f"Judge ({md_text(judge.get('mode'))}{against}; {judge.get('requests')} requests, {judge.get('cached')} cached):"
    ]
    for name, s in (judge.get("variants") or {}).items():
        flips = f", {s['flips']} verdicts flip with order" if s.get("flips") is not None else ""
        out.append(
            f"- {md_code(name)}: judge score {interval(s.get('score'))}, "
            f"{s.get('parsed')} of {s.get('judged')} replies read{flips}"
        )
    return out


def seed_lines(view: ReportView) -> list[str]:
    """One line per seeded variant (mean ± between-seed SD, each seed's score), then the ranking notes."""
    section, out = view.seeds, []
    for s in section.variants:
        spread = f" ± {num(s.sd)}" if s.sd is not None else ""
        each = ", ".join(f"seed {row.seed} {num(row.metric.get('value'))}" for row in s.rows)
        out.append(
            f"- {md_code(s.name)}: {md_text(section.metric)} {num(s.mean.get('value'))}{spread} over "
            f"{len(s.rows)} seeds ({each})"
        )
    return out + [f"- {md_text(line, 400)}" for line in section.notes]


def _name(v: VariantView) -> str:
    own = f" · {md_text(' · '.join(v.own_settings))}" if v.own_settings else ""  # its own prompt or inference
    marks = " ✅ recommended" if v.recommended else ""
    marks += " (base)" if v.is_base else ""
    return f"{md_code(v.name)}{own}{marks}"


def _vs_base(v: VariantView) -> str:
    if v.is_base:
        return "base"
    if v.vs_base is None:
        return DASH
    return f"+{len(v.vs_base.fixed)} / −{len(v.vs_base.broke)} ({v.vs_base.verdict})"
