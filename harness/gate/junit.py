"""JUnit XML for CI test reporters: one testcase per gate rule.

A failing rule is a <failure> whose message names the metric, the change, the
interval and the p-value; the body lists every figure. An inconclusive rule
that the suite lets pass is a passing testcase with the reason in
<system-out>; a rule that could not be checked is <skipped>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.gate.outcome import GateOutcome
from harness.gate.rules import Check


def _details(check: Check) -> str:
    rows = [
        ("rule", check.rule),
        ("verdict", check.verdict),
        ("subject", check.subject),
        ("baseline", check.baseline),
        ("run", check.run),
        ("delta", check.delta),
        ("limit", check.limit),
        (
            "interval",
            f"[{check.ci_low:.4f}, {check.ci_high:.4f}] at {check.confidence:.0%}"
            if check.ci_low is not None and check.confidence is not None
            else None,
        ),
        ("p-value", check.p_value),
        ("test", check.method),
        ("n", check.n),
        ("minimum detectable drop", check.mdd),
        ("unit", check.unit),
    ]
    return "\n".join(
        f"{name}: {value:.4g}" if isinstance(value, float) else f"{name}: {value}"
        for name, value in rows
        if value is not None
    )


def junit_xml(outcome: GateOutcome) -> str:
    failures = outcome.failures
    skipped = [c for c in outcome.checks if c.verdict == "skipped"]
    counts = {
        "tests": str(len(outcome.checks)),
        "failures": str(len(failures)),
        "errors": "0",
        "skipped": str(len(skipped)),
    }
    root = ET.Element("testsuites", name="bench gate", **counts)
    suite = ET.SubElement(root, "testsuite", name=f"bench gate: {outcome.suite}/{outcome.variant}", **counts)
    properties = ET.SubElement(suite, "properties")
    for name, value in [
        ("verdict", outcome.verdict),
        ("exit_code", outcome.exit_code),
        ("baseline", outcome.baseline_path),
        ("baseline_variant", outcome.baseline_variant),
        ("run_dir", outcome.run_dir),
        ("alpha", outcome.alpha),
        ("inconclusive_policy", outcome.inconclusive_policy),
        ("shared_items", outcome.comparison["shared_items"]),
        ("accuracy_mdd", outcome.comparison["accuracy_mdd"]),
    ]:
        ET.SubElement(properties, "property", name=name, value=str(value))
    for check in outcome.checks:
        case = ET.SubElement(
            suite, "testcase", classname=f"bench.gate.{outcome.suite}.{outcome.variant}", name=check.rule, time="0"
        )
        if check in failures:
            failure = ET.SubElement(
                case, "failure", message=check.message, type="regression" if check.verdict == "fail" else "inconclusive"
            )
            failure.text = _details(check)
        elif check.verdict == "skipped":
            ET.SubElement(case, "skipped", message=check.message)
        else:
            ET.SubElement(case, "system-out").text = f"{check.verdict}: {check.message}\n{_details(check)}"
    if outcome.notes:
        ET.SubElement(suite, "system-out").text = "\n".join(outcome.notes)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
