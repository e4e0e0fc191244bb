"""Bounds on what a suite or a data file may ask for, so hostile input fails fast with a clear error.

A suite and its data may arrive in a pull request and be run by CI. Without
bounds, a few lines could ask for a billion grid points, a trillion training
steps, or a document nested deep enough to exhaust the parser's stack. Each
bound is far above any real suite (the largest shipped grid has 3 points, the
deepest suite 6 levels, the longest data line a few kB) and each is reported as
a BenchError with file:line, exit code 2. docs/security.md lists them.
"""

from __future__ import annotations

MAX_SUITE_BYTES = 256_000  # a suite is a page of YAML (the largest shipped is 7 kB); data lives in its own files
MAX_YAML_DEPTH = 32  # nested mappings and lists in a suite
MAX_YAML_NODES = 10_000  # keys and values in a suite (the largest shipped has about 300)
MAX_JSON_DEPTH = 32  # nested objects and lists in one data line, baseline item or record
MAX_LINE_CHARS = 1_000_000  # one JSONL line (an item of about 200k words)
MAX_GRID_POINTS = 1_000  # variants one grid entry may expand to
MAX_NAME_CHARS = 128  # suite and variant names become folder names
MAX_STEPS = 1_000_000  # training.max_steps
MAX_EPOCHS = 1_000  # training.epochs
MAX_NEW_TOKENS = 32_768  # inference.max_new_tokens
MAX_SEEDS = 20  # training runs per trained variant (seeds:): each is a full training
MAX_SHOWN_CHARS = 60  # of a bad value quoted in an error message


def clip(value: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters: an error quotes a bad value, never a whole hostile input.

    Containers are described rather than rendered, since repr of a deep or huge one is itself the attack.
    """
    if isinstance(value, (dict, list, tuple, set)):
        return f"a {type(value).__name__} of {len(value)} entries"
    if isinstance(value, (str, bytes)) and len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value):,} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**limit:
        return f"an integer of {value.bit_length()} bits"  # str() of a huge int is slow, or refused past 4300 digits
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def json_depth(value: object) -> int:
    """Nesting depth of a parsed JSON value, walked without recursion (a hostile value is deep by design)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth  # deep enough to refuse; no need to measure how much deeper
            stack += [(child, depth + 1) for child in node]
    return deepest
