"""Is a piece of the prompt (an input field) set apart from the instructions around it?

:func:`is_delimited` is what PD017 (undelimited input), the rubric's structure criterion and
the offline Designer ask before they delimit an input.
"""

from __future__ import annotations

import re


def is_delimited(text: str, start: int, end: int) -> bool:
    """Is the span [start, end) enclosed by quotes, a fence, tags or marker lines?

    Also counted as delimited: a field inside a larger token (a URL's ``/{id}`` or
    ``?page={page}``), and a field alone on its line under a line that ends with ":"
    ("Messages (one per line):" then ``{messages}``), which already marks where it starts.
    """
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "/=&?#@.-_"):
        return True
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    alone = text[line_start : line_end if line_end >= 0 else len(text)].strip()
    if alone == text[start:end] and re.search(r":[ \t]*\n[ \t]*$", text[:line_start]):
        return True
    before = text[:start].rstrip(" \t")
    after = text[end:].lstrip(" \t")
    pairs = (
        ('"""', '"""'),
        ("'''", "'''"),
        ("```", "```"),
        ('"', '"'),
        ("“", "”"),
        ("'", "'"),
        ("`", "`"),
        ("[", "]"),
        ("---", "---"),
        ("===", "==="),
        ("<<<", ">>>"),
    )
    b = before.rstrip("\n ")
    a = after.lstrip("\n ")
    for left, right in pairs:
        if b.endswith(left) and a.startswith(right):
            return True
    if re.search(r"```[^\n`]*$", b) and a.startswith("```"):
        return True
    tag = re.search(r"<([A-Za-z_][\w-]*)[^<>]*>$", b)
    return bool(tag and a.startswith(f"</{tag.group(1)}>"))
