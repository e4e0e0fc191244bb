"""Names that become folder names, and paths built from them that must stay where they belong.

A suite's and a variant's name become folders (``reports/<suite>/``,
``<run>/variants/<name>/``). A name such as ``..`` or ``a/b`` would place, or
remove, files outside the run folder, so names follow one safe pattern and every
path built from a name is resolved and checked to lie inside its root before
anything is written or removed there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field

from harness.core.errors import BenchError
from harness.core.limits import MAX_NAME_CHARS

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SAFE_NAME_RULE = (
    "a name starts with a letter or digit and holds only letters, digits, '_', '-' and '.', never '..' "
    f"(at most {MAX_NAME_CHARS} characters)"
)


def is_safe_name(name: str) -> bool:
    return bool(SAFE_NAME.match(name)) and ".." not in name and len(name) <= MAX_NAME_CHARS


def _checked_name(name: str) -> str:
    if not is_safe_name(name):
        raise ValueError(f"'{name[:MAX_NAME_CHARS]}' cannot name a folder: {SAFE_NAME_RULE}")
    return name


# A name field in a config: the pattern and the '..' rule, checked when the suite is validated.
SafeName = Annotated[str, Field(max_length=MAX_NAME_CHARS * 4), AfterValidator(_checked_name)]


def inside(root: Path, name: str) -> Path:
    """``root / name`` (``root`` resolved), after checking that it stays a child of ``root`` with symlinks followed.

    Called before writing or removing anything at a path built from a name or a key read from disk.
    """
    root = Path(root).resolve()
    path = root / name
    if not is_safe_name(name) or path.resolve().parent != root:
        raise BenchError(
            f"refusing to use '{name[:MAX_NAME_CHARS]}' as a folder name under {root}",
            hint=SAFE_NAME_RULE,
        )
    return path
