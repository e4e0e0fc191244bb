"""The gate: compare a run with a stored baseline, item by item, and decide pass / fail.

    from harness.gate import gate_run
    outcome = gate_run("reports/tiny/20260101-120000")   # baselines/<suite>.json by default
    sys.exit(outcome.exit_code)                           # 0 pass, 1 regression

Modules: metrics (every gateable metric from per-item rows), baseline (save
and load baselines/<suite>.json), runs (read a run folder), rules (one check
per rule), evaluate (pair items, run the rules, the outcome), junit and summary
(what CI reads). The rules a suite writes live in harness.suite.gate_rules, the
paired tests in harness.stats.paired; the command line is harness.cli.gate.
"""

__all__ = ["gate_run", "GateOutcome"]


def __getattr__(name: str):
    # Lazy, so that loading a suite (which needs only gate.spec) does not import scipy and statsmodels.
    if name in __all__:
        from harness.gate import evaluate

        return getattr(evaluate, name)
    raise AttributeError(name)
