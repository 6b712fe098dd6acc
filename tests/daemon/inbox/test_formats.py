"""Inbox formats: each one round-trips, and each kind of bad file gets an error that helps."""

from __future__ import annotations

import csv
import io
import json

import pytest

from promptd.daemon.errors import InboxError
from promptd.daemon.events import BatchItemCompleted
from promptd.daemon.inbox.formats import format_of, output_name, parse, report_name
from promptd.daemon.inbox.output import render

CAP = 1024 * 1024


def ok(index: int, optimized: str, **kw: object) -> BatchItemCompleted:
    return BatchItemCompleted(
        batch_id="b_1",
        index=index,
        optimized=optimized,
        score_before=30,
        score_after=70,
        findings=2,
        cost_ticks=12_345_000,
        **kw,  # type: ignore[arg-type]
    )


def test_names() -> None:
    assert output_name("prompts.csv") == "prompts.optimized.csv"
    assert report_name("prompts.csv") == "prompts.report.md"
    assert format_of("A.JSONL") == "jsonl"
    assert format_of("notes.docx") is None


@pytest.mark.parametrize("ext", ["txt", "md", "prompt"])
def test_whole_file_round_trip(ext: str) -> None:
    parsed = parse(f"p.{ext}", b"write some stuff about dogs\n", CAP)
    assert [i.prompt for i in parsed.items] == ["write some stuff about dogs\n"]
    out = render(parsed, {0: ok(0, "Write an engaging piece about dogs.")})
    assert out == b"Write an engaging piece about dogs.\n"


def test_whole_file_failed_item_keeps_the_original() -> None:
    parsed = parse("p.txt", b"hello there", CAP)
    failed = BatchItemCompleted(batch_id="b", index=0, status="error", error="boom")
    assert render(parsed, {0: failed}) == b"hello there"


def test_json_round_trip_keeps_ids_and_extra_fields() -> None:
    data = json.dumps(
        ["plain one", {"prompt": "second", "type": "code", "id": 7, "owner": "ana"}]
    ).encode()
    parsed = parse("p.json", data, CAP)
    assert [(i.prompt, i.prompt_type, i.item_id) for i in parsed.items] == [
        ("plain one", "", ""),
        ("second", "code", "7"),
    ]
    rows = json.loads(render(parsed, {0: ok(0, "A"), 1: ok(1, "B", cached=True)}))
    assert rows[0]["prompt"] == "plain one" and rows[0]["optimized"] == "A"
    assert rows[1]["id"] == 7 and rows[1]["owner"] == "ana" and rows[1]["type"] == "code"
    assert rows[1]["optimized"] == "B"
    assert (rows[1]["score_before"], rows[1]["score_after"], rows[1]["findings"]) == (30, 70, 2)
    assert rows[1]["cost_usd"] == pytest.approx(0.0012345)
    assert rows[1]["cached"] is True and rows[1]["degraded"] is False
    assert rows[1]["status"] == "ok" and rows[1]["error"] == ""


def test_jsonl_round_trip_with_one_bad_line() -> None:
    data = b'{"prompt": "one", "id": "a"}\n\n"two"\n{"prompt": oops}\n'
    parsed = parse("p.jsonl", data, CAP)
    assert [i.prompt for i in parsed.items] == ["one", "two", ""]
    assert "line 4 column" in parsed.items[2].error and "invalid JSON" in parsed.items[2].error
    bad = BatchItemCompleted(batch_id="b", index=2, status="error", error=parsed.items[2].error)
    lines = render(parsed, {0: ok(0, "ONE"), 1: ok(1, "TWO"), 2: bad}).decode().splitlines()
    rows = [json.loads(line) for line in lines]
    assert rows[0]["id"] == "a" and rows[0]["optimized"] == "ONE"
    assert rows[1]["prompt"] == "two" and rows[1]["optimized"] == "TWO"
    assert rows[2]["status"] == "error" and "line 4" in rows[2]["error"]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_csv_round_trip_keeps_columns_and_bom(bom: bytes) -> None:
    text = 'id,prompt,team\r\n1,"write, a poem",red\r\n2,"multi\nline",blue\r\n'
    parsed = parse("p.csv", bom + text.encode(), CAP)
    assert [(i.item_id, i.prompt) for i in parsed.items] == [
        ("1", "write, a poem"),
        ("2", "multi\nline"),
    ]
    out = render(parsed, {0: ok(0, "Write a poem."), 1: ok(1, 'Say "hi"')})
    assert out.startswith(bom) if bom else not out.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(out.decode("utf-8-sig"), newline="")))
    assert rows[0]["id"] == "1" and rows[0]["team"] == "red"
    assert rows[0]["optimized"] == "Write a poem." and rows[1]["optimized"] == 'Say "hi"'
    assert rows[1]["prompt"] == "multi\nline"
    assert rows[0]["score_before"] == "30" and rows[0]["score_after"] == "70"
    assert rows[0]["findings"] == "2" and rows[0]["cost_usd"] == "0.0012345"
    assert rows[0]["cached"] == "false" and rows[0]["status"] == "ok"


def test_csv_semicolon_and_clashing_column_names() -> None:
    parsed = parse("p.csv", b"prompt;status\nhello;draft\n", CAP)
    out = render(parsed, {0: ok(0, "Hello.")}).decode()
    header = out.splitlines()[0].split(";")
    assert header[:2] == ["prompt", "status"] and "promptd_status" in header
    assert out.splitlines()[1].startswith("hello;draft;Hello.;")


def test_csv_bad_rows_fail_alone() -> None:
    parsed = parse("p.csv", b"prompt,type\nfine,code\n,general\nx,poetry\na,b,c\n", CAP)
    assert parsed.items[0].error == ""
    assert "row 2" in parsed.items[1].error and "empty" in parsed.items[1].error
    assert "unknown type 'poetry'" in parsed.items[2].error
    assert "3 cells but the header has 2" in parsed.items[3].error


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.json", b'[\n  "ok",\n  "missing comma" "x"\n]', "invalid JSON at line 3 column 19"),
        ("a.json", b'{"prompt": "x"}', "the JSON is an object; expected an array"),
        ("a.json", b"[]", "holds no prompts"),
        ("a.jsonl", b"{nope\n[also bad\n", "no line is valid JSON (first: line 1 column 2"),
        ("a.csv", b"text,id\nhello,1\n", "no \"prompt\" column (columns found: 'text', 'id')"),
        ("a.csv", b'prompt\n"unclosed""x\n', "invalid CSV at line"),
        ("a.csv", b"", "a CSV needs a header row"),
        ("a.txt", b"  \n", "the file is empty"),
        ("a.md", b"caf\xe9 au lait", "not UTF-8 text (byte 0xe9 at line 1"),
        ("a.csv", b"\xff\xfep\x00r\x00", "UTF-16, not UTF-8"),
        ("a.prompt", b"abc\x00def", "NUL byte"),
        ("a.docx", b"x", "not an inbox format"),
    ],
)
def test_malformed_files(name: str, data: bytes, expected: str) -> None:
    with pytest.raises(InboxError) as err:
        parse(name, data, CAP)
    assert expected in str(err.value)
    assert name in str(err.value)


def test_over_the_size_cap() -> None:
    with pytest.raises(InboxError, match=r"over the inbox limit of 100 bytes; split it"):
        parse("big.txt", b"x" * 101, 100)


def test_json_rows_that_are_not_prompts_fail_alone() -> None:
    parsed = parse("a.json", b'["ok", 3, {"id": 1}, {"prompt": "x", "type": 5}, ""]', CAP)
    errors = [i.error for i in parsed.items]
    assert errors[0] == ""
    assert "item 2: expected a string or an object" in errors[1]
    assert 'item 3: the object has no "prompt" field' in errors[2]
    assert '"type" must be a string' in errors[3]
    assert "item 5: the prompt is empty" in errors[4]
