"""Local, meaning-preserving edits of one sentence: filler, shouting, negative-only wording.

Each edit returns the new text and records what it did, so the Designer can name the
finding every change answers. Placeholders, code spans, URLs and quoted strings are never
touched: edits run on the prose between them.
"""

from __future__ import annotations

import re
from typing import Final

from ..checks import shouted_runs
from ..guards import placeholder_spans
from ..positive import CONCRETE, POSITIVE_FORMS
from ..text import ACRONYMS, FILLER, is_filler, wordlist


def _protected(text: str) -> list[tuple[int, int]]:
    spans = [(s, e) for _t, _st, s, e in placeholder_spans(text)]
    quoted = (r"`[^`\n]*`", r"https?://\S+", r"\"[^\"\n]*\"", r"“[^“”\n]*”")
    for pat in (*quoted, r"\[[^\]\n]{1,40}\]"):  # [Name]: a template's field
        spans += [(m.start(), m.end()) for m in re.finditer(pat, text)]
    return spans


def _free(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return not any(s < end and start < e for s, e in spans)


def tidy(text: str) -> str:
    """Collapse the gaps edits leave: double spaces, space before punctuation, stray commas."""
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"^[\s,;:]+", "", text)
    text = re.sub(r",\s*([.!?])", r"\1", text)
    text = re.sub(r"([,;])\1+", r"\1", text)
    return text.strip()


def capitalize(text: str) -> str:
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :] if text[i : i + 1].islower() else text
        if ch in "{$<%`\"'":
            return text
    return text


def remove_filler(sentence: str) -> tuple[str, list[str]]:
    """Drop politeness and filler; a request ("Can you ...?") becomes an instruction."""
    removed: list[str] = []
    spans = _protected(sentence)
    was_request = bool(re.search(r"\b(?:can|could|would) you\b", sentence, re.I))

    def drop(m: re.Match[str]) -> str:
        if not _free(spans, m.start(), m.end()):
            return m.group(0)
        if not is_filler(sentence, m):
            return m.group(0)
        removed.append(m.group(0))
        return ""

    out = FILLER.sub(drop, sentence)
    if not removed:
        return sentence, []
    out = tidy(out)
    if was_request and out.endswith("?"):
        out = out[:-1] + "."
    if re.fullmatch(r"[\W_]*", out):
        out = ""
    # Capitalize only when the sentence's first word went ("please write" -> "Write"); a
    # sentence the author began in lower case ("escribe un email ...") keeps its case.
    lead_gone = out[:1].lower() != sentence.lstrip()[:1].lower()
    return (capitalize(out) if lead_gone else out), removed


_PROPER: Final = {
    w.lower(): w
    for w in wordlist(
        "I English French German Spanish Italian Portuguese Dutch Japanese Chinese Korean "
        "Russian Arabic Hindi Polish Swedish Turkish Monday Tuesday Wednesday Thursday Friday "
        "Saturday Sunday January February March April June July August September October "
        "November December Python JavaScript TypeScript Java Rust Go Ruby"
    )
}


def _lower(word: str) -> str:
    low = word.lower()
    return _PROPER.get(low, low)


def calm_shouting(sentence: str) -> tuple[str, list[str]]:
    """Lower-case shouted words (acronyms stay) and turn "!!!" into plain punctuation."""
    spans = _protected(sentence)
    changed: list[str] = []
    chars = list(sentence)
    for start, end in shouted_runs(sentence):
        if not _free(spans, start, end):
            continue
        run = sentence[start:end]
        lowered = re.sub(
            r"[A-Z][A-Z'’]*",
            lambda m: m.group(0) if m.group(0) in ACRONYMS else _lower(m.group(0)),
            run,
        )
        # only the shouted words get their apostrophe back: "DONT" -> "don't"
        lowered = re.sub(r"\bdont\b", "don't", lowered)
        lowered = re.sub(r"\bcant\b", "can't", lowered)
        chars[start:end] = list(lowered)
        changed.append(run)
    out = "".join(chars)
    changed += re.findall(r"!{2,}|\?{2,}", out)
    out, n = re.subn(r"!{2,}", "!", out)
    if n:
        out = re.sub(r"!(\s|$)", r".\1", out)
    out = re.sub(r"\?{2,}", "?", out)
    if not changed:
        return sentence, []
    runs = shouted_runs(sentence)
    lead = len(sentence) - len(sentence.lstrip(" \t-*•>\"'"))
    return (capitalize(out) if runs and runs[0][0] <= lead else out), changed


def make_positive(sentence: str) -> tuple[str, list[str]]:
    """Rewrite negative-only clauses that have a known positive form."""
    parts = re.split(r"(,\s*|;\s*|\s+and\s+|\s+but\s+)", sentence.rstrip(".!"))
    rewritten: list[str] = []
    changed: list[str] = []
    for part in parts:
        stripped = part.strip()
        for pattern, positive in POSITIVE_FORMS:
            m = pattern.match(stripped)
            if m and not CONCRETE.search(stripped):
                new = m.expand(positive) if "\\1" in positive else positive
                if rewritten and rewritten[-1].strip() in ("and", "but"):
                    rewritten[-1] = " and "
                rewritten.append(new[0].lower() + new[1:] if rewritten else new)
                changed.append(stripped)
                break
        else:
            rewritten.append(part)
    if not changed:
        return sentence, []
    out = "".join(rewritten).strip()
    end = sentence.rstrip()[-1:] if sentence.rstrip()[-1:] in ".!?" else "."
    return capitalize(tidy(out)) + (end if end != "!" else "."), changed


_VACUOUS: Final = re.compile(
    r"^(?:(?:and|but)\s+)?make (?:it|this) (?:really |very |extra )?(?:good|nice|great|better)$",
    re.I,
)


def drop_vacuous(sentence: str) -> tuple[str, list[str]]:
    """Drop "make it good" clauses from a sentence that has another clause to keep."""
    parts = re.split(r"(,\s*|;\s*|\s+and\s+)", sentence.rstrip(".!?"))
    clauses = parts[::2]
    dropped = [c.strip() for c in clauses if _VACUOUS.match(c.strip())]
    if not dropped or len(dropped) == len(clauses):
        return sentence, []
    kept = [c for c in clauses if not _VACUOUS.match(c.strip())]
    seps = [sep for i, sep in enumerate(parts[1::2]) if not _VACUOUS.match(clauses[i].strip())]
    out = "".join(c + (seps[i] if i < len(kept) - 1 else "") for i, c in enumerate(kept))
    end = sentence.rstrip()[-1:] if sentence.rstrip()[-1:] in ".!?" else "."
    return capitalize(tidy(out)) + end, dropped


def clean_sentence(sentence: str) -> tuple[str, dict[str, list[str]]]:
    """All local edits; returns the new sentence and what each edit changed, by rule code."""
    done: dict[str, list[str]] = {}
    out, removed = remove_filler(sentence)
    if removed:
        done["PD013"] = removed
    out, calmed = calm_shouting(out)
    if calmed:
        done["PD012"] = calmed
    out, positive = make_positive(out)
    if positive:
        done["PD005"] = positive
        # the positive form now says which quality is meant; "make it good" beside it is noise
        out, vacuous = drop_vacuous(out)
        if vacuous:
            done["PD003"] = vacuous
    return out, done
