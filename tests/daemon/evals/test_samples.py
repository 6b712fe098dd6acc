"""The inputs file of ``promptd eval`` and the filling of every placeholder style."""

from __future__ import annotations

import pytest

from promptd.daemon.errors import InputError
from promptd.daemon.evals.samples import check_samples, fill, parse_samples, variables

EVERY_STYLE = (
    "A {a} B {{ b | upper }} C ${c} D {$d} E %(e)s F <f> G [[g]] H <<h>> "
    "I {i!r} J ${j:fallback} {% if a %}K{% endif %}"
)


def test_every_placeholder_style_is_filled() -> None:
    values = {k: k.upper() for k in "abcdefghi"}
    assert variables(EVERY_STYLE) == list("abcdefghi")  # j has a default; blocks are logic
    assert fill(EVERY_STYLE, values) == (
        "A A B B C C D D E E F F G G H H I I J fallback {% if a %}K{% endif %}"
    )
    assert fill("${j:fallback}", {"j": "given"}) == "given"


def test_a_missing_value_is_a_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match="topic"):
        fill("Write about {topic}", {})


def test_rows_are_read_with_their_line() -> None:
    text = (
        '{"vars": {"topic": "tides", "n": 3}, "expected": "two paragraphs"}\n'
        "\n"
        '{"vars": {"topic": "moons"}, "criteria": ["cites a source", " "]}\n'
        '{"vars": {"topic": {"nested": true}}, "expected": {"k": 1}, "criteria": "short"}\n'
    )
    rows = parse_samples(text, "s.jsonl")
    assert [r.line for r in rows] == [1, 3, 4]
    assert rows[0].vars == {"topic": "tides", "n": "3"} and rows[0].expected == "two paragraphs"
    assert rows[1].criteria == ["cites a source"]
    assert rows[2].vars["topic"] == '{"nested":true}' and rows[2].criteria == ["short"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"vars": {"a": "x"}}\n{"vars": {"a": "x"},\n', "s.jsonl line 2 is not valid JSON"),
        ('["a"]\n', "s.jsonl line 1: Expected `object`"),
        ('{"vars": {}, "expect": "typo"}\n', "s.jsonl line 1: Object contains unknown field"),
        ('{"vars": ["a"]}\n', "s.jsonl line 1: Expected `object`, got `array` - at `$.vars`"),
        ("\n\n", "s.jsonl holds no samples"),
    ],
)
def test_bad_rows_name_their_line(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_samples(text, "s.jsonl")
    assert str(caught.value).startswith(message)


def test_too_many_samples_is_refused() -> None:
    with pytest.raises(InputError, match="more than 200 samples"):
        parse_samples('{"vars": {}}\n' * 201, "big.jsonl")


def test_a_sample_without_a_variable_names_line_prompt_and_variable() -> None:
    rows = parse_samples('{"vars": {"topic": "x", "tone": "dry"}}\n{"vars": {"topic": "y"}}\n', "s")
    prompts = {"original": "Write about {topic}.", "candidate": "Write about {topic}, {tone}."}
    with pytest.raises(InputError) as caught:
        check_samples(rows, prompts, "s.jsonl")
    assert str(caught.value).startswith(
        "s.jsonl line 2: no value for 'tone' (a placeholder of the candidate)"
    )
