"""Small rules for text shown to people, shared by the report, the model card and the console."""

from __future__ import annotations


def sentence(text: str) -> str:
    """Capitalised at the start of a sentence, the rest as written ("macro-F1" -> "Macro-F1", not "Macro-f1")."""
    return text[:1].upper() + text[1:]
