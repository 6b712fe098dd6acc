"""Negative-only instructions with a known positive form ("don't make it long" -> "Keep it
concise").

The offline Designer rewrites with this table (PD005), and the content guard accepts a
negative constraint as kept when the rewrite carries its positive form instead.
"""

from __future__ import annotations

import re
from typing import Final

# Negative-only instructions with a known positive form: (pattern, positive sentence).
POSITIVE_FORMS: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (
        re.compile(
            r"^(?:(?:and|but)\s+)?(?:(?:don'?t|dont|do not|never)\s+|avoid\s+)" + p + r"$", re.I
        ),
        positive,
    )
    for p, positive in (
        (
            r"(?:make (?:it|this|the \w+)|be|being|making it) (?:too |so |very )?(boring|dull)",
            "Make it engaging, not \\1",
        ),
        (
            r"(?:make (?:it|this|the \w+)|be|being|making it) (?:too |so |very |overly )?"
            r"(long|lengthy|verbose|wordy)",
            "Keep it concise, not \\1",
        ),
        (r"(?:write|make it|be) (?:too |overly )?(?:short|brief)", "Be thorough"),
        (
            r"(?:use|using|include) (?:any |technical |too much |unnecessary )?jargon",
            "Use plain language, no jargon",
        ),
        (r"(?:be|being) (?:too )?vague", "Be specific, not vague"),
        (r"repeat (?:yourself|itself|the same points?)", "Make each point once"),
        (r"(?:be|being|sound) (?:too )?(?:formal|stiff)", "Use a conversational tone"),
        (r"(?:be|being|sound) (?:too )?(?:casual|informal|chatty)", "Use a professional tone"),
        (r"(?:be|being|sound) (?:rude|mean|condescending)", "Keep a respectful tone"),
        (r"(?:use|write in) (?:the )?passive voice", "Use the active voice"),
        (r"(?:use|include) (?:any )?(?:markdown|formatting)", "Write in plain text"),
        (r"(?:use|include) (?:any )?(?:bullet points|bullets|lists)", "Write in prose paragraphs"),
        (r"(?:make (?:it|this) |be )(?:too )?(?:complicated|complex|convoluted)", "Keep it simple"),
        (r"(?:ramble|go off[- ]topic|digress)", "Stay on topic"),
        (
            r"(?:use|include) (?:any )?(?:external|third[- ]party) (?:libraries|packages|"
            r"dependencies)",
            "Use only the standard library",
        ),
        (r"forget (?:to )?(.+)", "\\1"),
    )
)


# A clear prohibition of a concrete thing ("never use jargon", "no bullet points") is kept as
# the author wrote it: the offline Designer rewrites only the vague ones ("don't make it
# boring"). The guard still accepts the positive form from any engine (EXAMPLES.md allows
# "use plain words" for "never use jargon").
CONCRETE: Final = re.compile(
    r"jargon|passive voice|markdown|formatting|bullet|lists|libraries|packages|dependencies",
    re.I,
)


def positive_form(clause: str) -> str:
    """The positive form of a negative-only ``clause``, or "" when none is known."""
    for pattern, positive in POSITIVE_FORMS:
        m = pattern.match(clause.strip().rstrip(".!"))
        if m:
            return m.expand(positive) if "\\1" in positive else positive
    return ""
