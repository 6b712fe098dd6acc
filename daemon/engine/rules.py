"""The rule table: every finding the Diagnoser (and ``promptd lint``) can produce.

Codes are stable: a code is never reused or renumbered, so editors, CI configs and the
event log can rely on them. ``docs/rules.md`` is generated from this table
(``python -m promptd.daemon.engine.rules_doc``). The checks themselves live in
:mod:`promptd.daemon.engine.checks`.
"""

from __future__ import annotations

from typing import Final

import msgspec

from ..values import PROMPT_TYPES, Finding, Severity, Span

ALL_TYPES: Final = PROMPT_TYPES


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    severity: Severity
    summary: str  # one line: what the rule finds
    message: str  # the finding's message; may use {detail}
    fix: str  # how to fix it
    types: tuple[str, ...] = ALL_TYPES
    needs_input: bool = False  # only the author can resolve it
    fixable: bool = False  # the offline Designer fixes it
    example: str = ""  # a prompt that triggers it
    # found by the prompt library, not in the text: optimizations report it, lint has no check
    from_library: bool = False

    def finding(self, span: Span | None = None, detail: str = "") -> Finding:
        message = (
            self.message.format(detail=detail) if "{detail}" in self.message else (self.message)
        )
        return Finding(
            code=self.code,
            severity=self.severity,
            message=f"{message} {self.fix}",
            span=span,
            needs_input=self.needs_input,
            rule=self.name,
        )


RULES: Final[tuple[Rule, ...]] = (
    Rule(
        code="PD001",
        name="missing-task",
        severity="error",
        summary="No task: the prompt never says what to do.",
        message="The prompt does not say what to do.",
        fix='Start with an instruction such as "Summarize ..." or ask a direct question.',
        needs_input=True,
        example="Dogs and their owners in big cities.",
    ),
    Rule(
        code="PD002",
        name="missing-output-format",
        severity="warning",
        summary="No output format: the answer's shape is left to chance (an image-generation "
        "prompt has none to give). The Designer adds one only when the prompt implies it "
        "(a SWOT's four sections, a plan, the fixed code); otherwise it is left to you.",
        message="The prompt does not say what the answer should look like.",
        fix='Add an output format (e.g. "Answer as a JSON object" or "3 bullet points").',
        fixable=True,
        example="Explain how DNS resolution works.",
    ),
    Rule(
        code="PD003",
        name="vague-term",
        severity="warning",
        summary="Vague words (some, stuff, things, good, etc.) that the model must guess at.",
        message='Vague term "{detail}".',
        fix="Say exactly which, how many or what quality you mean.",
        needs_input=True,
        example="Write some stuff about dogs.",
    ),
    Rule(
        code="PD004",
        name="conflicting-constraints",
        severity="error",
        summary="Constraints that contradict each other (brief and detailed, formal and casual, "
        "two different lengths or counts).",
        message="Conflicting constraints: {detail}.",
        fix="Keep the one you mean and remove the other.",
        needs_input=True,
        example="Write a brief but detailed and comprehensive report.",
    ),
    Rule(
        code="PD005",
        name="negative-only",
        severity="warning",
        summary='A "don\'t" instruction with no positive alternative (the Designer rewrites the '
        "ones whose positive form it knows).",
        message='Negative-only instruction "{detail}".',
        fix='Say what to do instead ("Keep it concise" rather than "Don\'t make it long").',
        fixable=True,
        example="Don't make it boring.",
    ),
    Rule(
        code="PD006",
        name="missing-role",
        severity="info",
        summary="Technical and code prompts work better with a role.",
        message="No role is given for this {detail} prompt.",
        fix='Start with a role that fits, e.g. "You are an experienced Python developer."',
        types=("technical", "code"),
        fixable=True,
        example="Fix the bug in this function.",
    ),
    Rule(
        code="PD007",
        name="missing-audience",
        severity="hint",
        summary="Writing for nobody in particular: no audience is named.",
        message="No audience is named.",
        fix='Say who will read it (e.g. "for new employees", "for children aged 8").',
        types=("general", "creative", "analytical"),
        needs_input=True,
        example="Write an article about climate change.",
    ),
    Rule(
        code="PD008",
        name="unbounded-length",
        severity="warning",
        summary="Creative or analytical writing with no length.",
        message="No length is given.",
        fix='Give a length ("about 300 words", "3 paragraphs", "at most 5 bullets").',
        types=("general", "creative", "analytical"),
        needs_input=True,
        example="Write a story about a lighthouse keeper.",
    ),
    Rule(
        code="PD009",
        name="unbalanced-braces",
        severity="error",
        summary="A brace that never closes (or closes nothing): a broken placeholder.",
        message='Unbalanced brace "{detail}".',
        fix='Close the placeholder ("{name}") or escape a literal brace as "{{".',
        example="Translate {text into French.",
    ),
    Rule(
        code="PD010",
        name="mixed-placeholder-styles",
        severity="warning",
        summary="Placeholders in more than one template style.",
        message="Placeholders use several styles: {detail}.",
        fix="Use one style your template engine fills; the others will be sent verbatim.",
        needs_input=True,
        example="Hello {name}, your order ${order_id} has shipped.",
    ),
    Rule(
        code="PD011",
        name="unfilled-marker",
        severity="warning",
        summary='TODO, XXX, TBD, FIXME or "[insert ...]" left in the prompt.',
        message='Unfilled marker "{detail}".',
        fix="Replace it with the real text, or turn it into a placeholder.",
        needs_input=True,
        example="Summarize the report for TODO.",
    ),
    Rule(
        code="PD012",
        name="shouting",
        severity="warning",
        summary='ALL CAPS or "!!!": shouting adds no meaning and skews the tone.',
        message='Shouting "{detail}".',
        fix="Write it in plain case; state what matters once, clearly.",
        fixable=True,
        example="DO NOT use jargon!!!",
    ),
    Rule(
        code="PD013",
        name="filler",
        severity="info",
        summary="Politeness and filler words that cost tokens and add nothing.",
        message='Filler "{detail}".',
        fix="Remove it; a direct instruction is clearer.",
        fixable=True,
        example="Could you please kindly summarize this text?",
    ),
    Rule(
        code="PD014",
        name="several-tasks-one-sentence",
        severity="info",
        summary="Several tasks packed into one sentence.",
        message="One sentence holds several tasks: {detail}.",
        fix="Give each task its own numbered step.",
        fixable=True,
        example="Fix the bug and write tests and update the docs.",
    ),
    Rule(
        code="PD015",
        name="ambiguous-opening-pronoun",
        severity="warning",
        summary="The prompt opens with a pronoun (it, this, that, they) that refers to nothing.",
        message='The prompt opens with "{detail}", which refers to nothing before it.',
        fix="Name the thing you mean.",
        needs_input=True,
        example="It should be shorter and funnier.",
    ),
    Rule(
        code="PD016",
        name="long-sentence",
        severity="info",
        summary="A sentence over 40 words: hard to follow for people and models.",
        message="A sentence of {detail} words.",
        fix="Split it into shorter sentences or a list.",
        example="(any sentence longer than 40 words)",
    ),
    Rule(
        code="PD017",
        name="undelimited-input",
        severity="warning",
        summary="Outside text (a placeholder for input) without delimiters: it can be "
        "mistaken for instructions. A field inside a URL, and one alone under a line ending "
        'in ":", count as delimited.',
        message="The input {detail} is not delimited.",
        fix="Put it in its own section between tags (<text> and </text>) or triple quotes.",
        fixable=True,
        example="Summarize this email: {email}",
    ),
    Rule(
        code="PD018",
        name="missing-examples",
        severity="info",
        summary="Classification or extraction with no example.",
        message="A {detail} task without examples.",
        fix="Add one short example per label or field.",
        types=("general", "technical", "analytical", "code"),
        needs_input=True,
        example="Classify each ticket as bug, feature or question.",
    ),
    Rule(
        code="PD019",
        name="near-duplicate",
        severity="info",
        summary="Two sentences that say nearly the same thing. Parallel items are not "
        "repetition: sentences in list items, labeled or indented lines and table rows, and "
        "sentences holding a placeholder, are never reported or removed.",
        message='This sentence repeats "{detail}".',
        fix="Keep one of them.",
        fixable=True,
        example="Be concise. Keep it concise.",
    ),
    Rule(
        code="PD020",
        name="missing-language-version",
        severity="info",
        summary="Technical or code work without a language or version.",
        message="{detail}",
        fix='Name the language and version (e.g. "Python 3.12").',
        types=("technical", "code"),
        needs_input=True,
        example="Write a function that parses dates.",
    ),
    Rule(
        code="PD021",
        name="too-short",
        severity="warning",
        summary="A prompt of a few words leaves almost everything to guesswork.",
        message="The prompt has only {detail}.",
        fix="Say what you want, for whom, and in what form.",
        needs_input=True,
        example="poem",
    ),
    Rule(
        code="PD022",
        name="wall-of-text",
        severity="info",
        summary="A long prompt in one block with no structure.",
        message="A block of {detail} words with no structure.",
        fix="Split it into sections (task, context, input, output format).",
        fixable=True,
        example="(one paragraph of more than 120 words)",
    ),
    Rule(
        code="PD023",
        name="similar-prompt",
        severity="info",
        summary=(
            "You optimized a similar prompt before: the library found it (an optimization "
            "reports it; `promptd lint` does not, it reads the text only)."
        ),
        message="You optimized a similar prompt on {detail}.",
        fix="Compare with it or reuse it: `promptd show ID`, `promptd search`.",
        from_library=True,
        example="(a prompt close to one in your history, e.g. the same request reworded)",
    ),
)

BY_CODE: Final[dict[str, Rule]] = {rule.code: rule for rule in RULES}
BY_NAME: Final[dict[str, Rule]] = {rule.name: rule for rule in RULES}


def rule(code_or_name: str) -> Rule:
    """The rule with this code (``PD003``) or name (``vague-term``)."""
    found = BY_CODE.get(code_or_name.upper()) or BY_NAME.get(code_or_name)
    if found is None:
        raise KeyError(f"no rule {code_or_name!r}; see docs/rules.md")
    return found
