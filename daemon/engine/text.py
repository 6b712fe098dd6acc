"""Text analysis shared by the rules, the guards and the offline agents.

Pure functions over a prompt: sentence splitting with spans, line/column lookup, a rough
token count, input validation, and the word lists the rules rely on.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import unicodedata
from typing import Final

import msgspec

from ..errors import InputError


class Sentence(msgspec.Struct, frozen=True):
    """A sentence of the prompt with its half-open code-point span."""

    text: str
    start: int
    end: int
    block: int = 0  # index of the paragraph/line block it belongs to


class LineIndex:
    """Offset -> (line, col), both 1-based, for one text."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1


_TOKEN: Final = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """A rough, deterministic token count: words and punctuation marks."""
    return len(_TOKEN.findall(text))


_WORD: Final = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def normalize(text: str) -> str:
    """The normalized form hashed for caches and history: NFC, \\n, no trailing spaces."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.strip().split("\n"))


def prompt_hash(text: str) -> str:
    """sha256 hex of :func:`normalize` (``OptimizationRequested.prompt_hash``)."""
    return hashlib.sha256(normalize(text).encode("utf-8", "surrogatepass")).hexdigest()


def validate_input(text: str, max_chars: int) -> None:
    """Refuse what no engine can work on, with a message that says what to do."""
    if len(text) > max_chars:
        raise InputError(
            f"the prompt has {len(text):,} characters, more than the limit of {max_chars:,}; "
            "shorten it or raise [engine] max_input_chars in config.toml"
        )
    if not text.strip():
        raise InputError("the prompt is empty; give the text of a prompt to work on")
    if "\x00" in text:
        raise InputError("the prompt contains NUL bytes (binary data?); give a text prompt")
    if text.replace("\n", "").replace("\t", "").replace("\r", "").isprintable():
        return  # the common case: no control, private-use or unassigned characters
    control = sum(
        1
        for ch in text
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and ch not in "\n\r\t"
    )
    if control * 10 > len(text):
        raise InputError(
            f"the prompt looks binary ({control} control or unassigned characters); "
            "give a text prompt"
        )


_ABBREV: Final = re.compile(r"\b(?:e\.g|i\.e|etc|vs|cf|Mr|Mrs|Ms|Dr|St|approx|no|fig)\.$", re.I)
_FENCE: Final = re.compile(r"^(```|~~~)")
_BOUNDARY: Final = re.compile(r"[.!?]+[\"')\]]*(?=\s)|[.!?]+[\"')\]]*$")


def blocks(text: str) -> list[tuple[int, int, bool]]:
    """Split into blocks: (start, end, is_code) for fenced code or single lines."""
    out: list[tuple[int, int, bool]] = []
    pos = 0
    in_fence = False
    fence_start = 0
    for line in text.split("\n"):
        end = pos + len(line)
        stripped = line.strip()
        if _FENCE.match(stripped):
            if in_fence:
                out.append((fence_start, end, True))
                in_fence = False
            else:
                in_fence = True
                fence_start = pos
        elif not in_fence and stripped:
            out.append((pos, end, False))
        pos = end + 1
    if in_fence:
        out.append((fence_start, len(text), True))
    return out


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with spans; each line is its own block and code fences are skipped."""
    out: list[Sentence] = []
    for index, (bstart, bend, is_code) in enumerate(blocks(text)):
        if is_code:
            continue
        chunk = text[bstart:bend]
        start = 0
        for m in _BOUNDARY.finditer(chunk):
            piece = chunk[start : m.end()]
            if _ABBREV.search(piece[-12:].rstrip("\"')]")):
                continue
            _add(out, chunk, start, m.end(), bstart, index)
            start = m.end()
        _add(out, chunk, start, len(chunk), bstart, index)
    return out


def _add(out: list[Sentence], chunk: str, start: int, end: int, base: int, block: int) -> None:
    piece = chunk[start:end]
    lead = len(piece) - len(piece.lstrip())
    piece = piece.strip()
    if piece:
        s = base + start + lead
        out.append(Sentence(piece, s, s + len(piece), block))


def wordlist(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- word lists --------------------------------------------------------------------------

IMPERATIVES: Final = wordlist(
    """
    write make create explain list give fix find summarize summarise translate use keep
    include add remove describe compare analyze analyse generate return provide classify
    extract rewrite draft design build implement refactor review check identify suggest
    answer respond do avoid format output tell show convert calculate compute estimate
    evaluate assess outline plan propose recommend rank sort group categorize categorise
    label tag detect debug optimize optimise improve edit proofread correct polish shorten
    expand simplify paraphrase compose brainstorm imagine invent name define discuss argue
    prove solve derive answer read parse validate test document comment migrate port update
    upgrade configure deploy install set create produce prepare note highlight mention cite
    quote focus ensure limit start begin end finish stop act pretend play respond reply
    consider think walk help count map merge split filter clean normalize normalise score
    rate grade predict forecast model visualize plot chart design sketch tell report
    investigate research explore interpret determine decide choose select pick match verify
    audit critique review structure organize organise
    """
)

MODALS: Final = frozenset({"should", "must", "need", "needs", "shall", "will", "can", "could"})

_COUNT: Final = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|a single)"
_UNITS: Final = (
    r"(?:words?|sentences?|paragraphs?|pages?|lines?|stanzas?|verses?|characters?|chars|"
    r"bullets?|bullet points?|items?|points?|minutes?|tokens?|examples?|sections?|slides?|"
    r"lists?|steps?|options?|ideas?|tips?|questions?|rows?|columns?|cells?|names?|"
    r"taglines?|headlines?|titles?|variations?|versions?|issues?|risks?|reasons?)"
)
FORMAT_WORDS: Final = re.compile(
    r"\b(?:json|yaml|csv|xml|html|markdown|(?:as|in|into) (?:a |one |two )?(?:[\w-]+ )?tables?|"
    r"bullet(?:ed)?(?: points?| lists?)?|"
    r"numbered(?: list| steps)?|list of|one (?:word|line|sentence|paragraph)|headings?|"
    r"format(?:ted)?|respond with|reply with|answer with|answer in|return (?:only|just|the|a|an|"
    r"json)|output(?: only| format)?|label only|code block|fenced|schema|template|in prose|"
    r"plain text|for each\b|use (?:a |one )?(?:[\w-]+ )?tables?|one per line|"
    r"most important first|step[- ]by[- ]step|"
    r"list (?:at most|up to|exactly|the top|\d+)|title on the first line|"
    rf"{_COUNT}(?:\s+|-)(?:[\w-]+\s+)?{_UNITS})\b",
    re.I,
)

# Forms that fix both the format and the length of a creative piece.
FIXED_FORMS: Final = re.compile(
    r"\b(?:haiku|limerick|sonnet|tweet|slogan|tagline|headline|couplet|acrostic|joke|riddle|pun|"
    r"one-liner|subject line|elevator pitch)s?\b",
    re.I,
)

LENGTH_WORDS: Final = re.compile(
    rf"\b(?:{_COUNT}(?:\s*-\s*\d+)?(?:\s+|-)(?:[\w-]+\s+)?{_UNITS}|"
    r"short|brief|concise|succinct|tl;?dr|at most|no more than|up to|under \d+|less than|"
    r"fewer than|word count|length|label only|one-liners?)\b",
    re.I,
)

LANGUAGES: Final = {
    "python": "Python",
    "javascript": "JavaScript",
    "typescript": "TypeScript",
    "java": "Java",
    "go": "Go",
    "golang": "Go",
    "rust": "Rust",
    "c++": "C++",
    "c#": "C#",
    "ruby": "Ruby",
    "php": "PHP",
    "kotlin": "Kotlin",
    "swift": "Swift",
    "scala": "Scala",
    "sql": "SQL",
    "bash": "Bash",
    "shell": "shell",
    "powershell": "PowerShell",
    "r": "R",
    "haskell": "Haskell",
    "elixir": "Elixir",
    "lua": "Lua",
    "perl": "Perl",
    "dart": "Dart",
    "julia": "Julia",
    "terraform": "Terraform",
    "postgresql": "PostgreSQL",
    "postgres": "PostgreSQL",
    "mysql": "MySQL",
    "sqlite": "SQLite",
    "react": "React",
    "django": "Django",
    "node": "Node.js",
    "node.js": "Node.js",
    "vue": "Vue",
    "angular": "Angular",
    "kubernetes": "Kubernetes",
    "docker": "Docker",
    "css": "CSS",
    "html": "HTML",
    "c": "C",
    "nginx": "nginx",
    "linux": "Linux",
    "windows": "Windows",
    "macos": "macOS",
    "aws": "AWS",
    "gcp": "GCP",
    "azure": "Azure",
    "fastapi": "FastAPI",
    "flask": "Flask",
    "pandas": "pandas",
    "numpy": "NumPy",
    "spark": "Spark",
    "ansible": "Ansible",
}
PROGRAMMING: Final = frozenset(
    {
        "Python",
        "JavaScript",
        "TypeScript",
        "Java",
        "Go",
        "Rust",
        "C++",
        "C#",
        "Ruby",
        "PHP",
        "Kotlin",
        "Swift",
        "Scala",
        "SQL",
        "Bash",
        "shell",
        "PowerShell",
        "R",
        "Haskell",
        "Elixir",
        "Lua",
        "Perl",
        "Dart",
        "Julia",
        "C",
    }
)
_LANG_RE: Final = re.compile(
    r"(?<![\w#+.])(?:"
    + "|".join(re.escape(k) for k in sorted(LANGUAGES, key=len, reverse=True))
    + r")(?![\w#+])",
    re.I,
)
# Single letters and common words are languages only in an explicit phrase.
_AMBIGUOUS_LANG: Final = frozenset({"go", "r", "c", "node", "shell", "spark", "swift", "react"})
VERSION: Final = re.compile(
    r"\b(?:v?\d+(?:\.\d+)+|(?:version|v)\s?\d+|es20\d\d|c\+\+\d\d|java \d+|python ?[23]"
    r"|node ?\d+|(?:latest|current) (?:stable )?version)\b"
    r"|\b(?:python|java|go|rust|ruby|php|kotlin|swift|scala|typescript|javascript|powershell|"
    r"bash|perl|lua|dart|julia|elixir|haskell|c\+\+|c#|postgresql|postgres|mysql|node(?:\.js)?|"
    r"django|react|kubernetes|terraform|ecmascript|es)\s?v?\d+",
    re.I,
)


def languages(text: str) -> list[str]:
    """Programming languages and platforms named in the text (canonical spelling)."""
    found: list[str] = []
    for m in _LANG_RE.finditer(text):
        key = m.group(0).lower()
        if key in _AMBIGUOUS_LANG:
            before = text[max(0, m.start() - 12) : m.start()].lower()
            after = text[m.end() : m.end() + 10].lower()
            explicit = re.search(r"\b(?:in|use|using|with|written in)\s+$", before) or re.match(
                r"\s*(?:code|program|script|function|language|version|\d)", after
            )
            # "React", "Go", "Swift" spelled as the name, inside a sentence, count too.
            named = (
                m.group(0) == LANGUAGES[key]
                and len(key) > 1
                and m.start() > 0
                and not re.search(r"(?:^|[.!?:]\s*)$", text[max(0, m.start() - 3) : m.start()])
            )
            if not (explicit or named) or (key in ("c", "r") and m.group(0).islower()):
                continue
        name = LANGUAGES[key]
        if name not in found:
            found.append(name)
    return found


FILLER: Final = re.compile(
    r"\b(?:please|kindly|thank you(?: (?:so+|very) much| a lot)?(?: in advance)?|"
    r"thanks(?: a (?:lot|bunch|ton|million)| so+ much)?(?: in advance)?|"
    r"if you (?:could|can|would|don'?t mind)|i was wondering if you could|would you (?:please )?"
    r"(?:be so kind as to )?|could you (?:please )?|can you (?:please )?|"
    r"i would (?:really )?(?:like|love|appreciate it if) (?:for )?you(?: to| could| would| can)?|"
    r"i(?:'d| would) like you to|i want you to|i need you to|"
    r"it would be (?:great|nice|awesome|helpful) if you could|feel free to|"
    r"as an ai(?: language model)?|basically|just|really|actually|hello|hi|hey(?: there)?|"
    r"greetings|if possible|if that'?s ok(?:ay)?|i hope you can help(?: me)?)\b",
    re.I,
)

_GREETING: Final = frozenset({"hello", "hi", "hey", "hey there", "greetings"})
_ADVERB: Final = frozenset({"just", "really", "actually", "basically"})


def is_filler(text: str, m: re.Match[str]) -> bool:
    """Is this :data:`FILLER` match really filler where it stands?

    Not when it carries meaning: "just" / "really" / "actually" not followed by an
    instruction ("who just joined", "just the csv module"); a greeting before a name or a
    field ("Hello {{ name }}!", "Hi [Name],": a template's own text); thanks for something
    ("thanks for signing up"); a wish at the end of an instruction ("keep the rhyme scheme
    if you can": dropping it would turn the wish into a rule).
    """
    word = m.group(0).lower()
    after = text[m.end() : m.end() + 40]
    nxt = re.match(r"[\s,]*([A-Za-z']+)", after)
    if word in _ADVERB:
        return nxt is not None and nxt.group(1).lower() in IMPERATIVES
    if word in _GREETING:
        return not re.match(r"[\s,]*(?:[{$<\[%]|[A-Z])", after)
    if word.startswith(("thank", "thanks")) and re.match(r"\s+for\b", after, re.I):
        return False
    if word.startswith("if "):
        before = text[: m.start()].rstrip()
        return not before or before.endswith((".", "!", "?", ":", "\n"))
    return True


VAGUE: Final = re.compile(
    r"\b(?:some|several|various|stuff|things?|etc\.?|good|nice|appropriate|a few|maybe|"
    r"somehow|whatever|kind of|sort of|a bit|a little|a lot|better|properly|interesting|"
    r"and so on|and so forth|something|anything)(?![\w'])",
    re.I,
)

SHOUT_WORDS: Final = wordlist(
    """
    DO DONT DON'T NOT NEVER ALWAYS MUST IMPORTANT VERY ALL ONLY NO YOU YOUR BE IS ARE THE A
    AN AND OR BUT THIS THAT IT MAKE WRITE USE KEEP REALLY SHOULD PLEASE NEED EVER EVERY STOP
    CRITICAL URGENT ANY NOTHING EXACTLY REMEMBER NOTE WARNING STRICTLY ABSOLUTELY OF TO IN
    ON FOR WITH WITHOUT BORING LONG SHORT GOOD BAD FOLLOW RULES MUSTN'T CAN'T WON'T ONE
    """
)
ACRONYMS: Final = wordlist(
    """
    JSON YAML CSV XML HTML CSS API APIS SQL URL URLS HTTP HTTPS REST JWT SDK CLI UI UX AI ML
    LLM GPU CPU RAM SSD OS USA UK EU UN NASA FAQ PDF ID IDS OK TL DR TLDR SEO KPI CEO CTO
    CFO HR PR QA AWS GCP DNS TCP UDP IP SSH TLS SSL CI CD PHP SMS B2B B2C ROI USD EUR GDPR
    HIPAA ASCII UTF README TODO XXX FIXME TBD ETA RFC ISO IEEE MVP NLP OOP CRUD
    """
)

INPUT_NAMES: Final = re.compile(
    r"^(?!(?:num|n|max|min|count|number|word|total)_)(?:\w+_)?(?:text|input|code|source|snippet|document|doc|docs|article|email|mail|"
    r"review|reviews|content|message|messages|data|dataset|query|question|context|transcript|"
    r"essay|passage|html|json|csv|file|diff|patch|log|logs|body|comment|comments|feedback|"
    r"ticket|tickets|report|notes|page|post|story|draft|paper|abstract|chat|conversation|"
    r"history|response|responses|answer|answers|output|table|records?|rows?|"
    r"stack_?trace|traceback|sql|schema|tweet|spec|specification|requirements|survey|surveys|"
    r"memo|script|invoice|resume|cv|contract|proposal|minutes|letter|list|thread|"
    r"description|summary|excerpt|statement|claim|argument|paragraph|paragraphs|sentence|"
    r"sentences|listing|bio|profile|prompt|article_text|job_description|posting)$",
    re.I,
)

PRONOUNS: Final = frozenset({"it", "they", "them", "this", "that", "these", "those", "he", "she"})
