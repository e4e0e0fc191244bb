"""What the gate decided: the verdict, the exit code, and every rule's check, for the renderers to show."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.gate import rules

EXIT_PASS, EXIT_REGRESSION = 0, 1


@dataclass
class GateOutcome:
    verdict: str  # pass | fail | inconclusive (inconclusive only when the suite lets it pass)
    exit_code: int  # 0 or 1; usage errors never get this far (BenchError, exit 2)
    checks: list[rules.Check]
    suite: str
    variant: str
    baseline_variant: str
    baseline_path: str
    run_dir: str
    alpha: float
    inconclusive_policy: str
    comparison: dict  # item counts, fingerprints, discordance, minimum detectable drop
    family: int = 0  # statistical rules tested together (Holm); 0 when none
    family_control: str = "holm"  # holm | none
    notes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def counts_as_failure(self, check: rules.Check) -> bool:
        return check.verdict == "fail" or (check.verdict == "inconclusive" and self.inconclusive_policy == "fail")

    @property
    def failures(self) -> list[rules.Check]:
        return [c for c in self.checks if self.counts_as_failure(c)]

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "suite": self.suite,
            "variant": self.variant,
            "baseline_variant": self.baseline_variant,
            "baseline_path": self.baseline_path,
            "run_dir": self.run_dir,
            "alpha": self.alpha,
            "inconclusive_policy": self.inconclusive_policy,
            "family": self.family,
            "family_control": self.family_control,
            "comparison": self.comparison,
            "notes": self.notes,
            "checks": [c.to_dict() for c in self.checks],
        }


def decide(checks: list[rules.Check], inconclusive_policy: str) -> tuple[str, int]:
    """The overall verdict and exit code from the checks and the suite's policy for inconclusive ones."""
    verdicts = {c.verdict for c in checks}
    if "fail" in verdicts or ("inconclusive" in verdicts and inconclusive_policy == "fail"):
        return "fail", EXIT_REGRESSION
    if "inconclusive" in verdicts and inconclusive_policy == "warn":
        return "inconclusive", EXIT_PASS
    return "pass", EXIT_PASS
