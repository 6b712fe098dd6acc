"""Export formats and reading them back, without a store."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import msgspec
import pytest

from promptd.daemon.backup.export import export
from promptd.daemon.backup.importer import read_import
from promptd.daemon.errors import BackupError
from promptd.daemon.events import encode_event, event_tag

from .samples import history, records, unknown_record

STORE = "st0re1d"


@pytest.mark.parametrize("fmt", ["jsonl", "json", "zip"])
def test_every_event_format_reads_back_exactly(tmp_path: Path, fmt: str) -> None:
    recs = [*records(history(3)), unknown_record(15)]
    out = tmp_path / f"history.{fmt}"
    summary = export(recs, store_id=STORE, fmt=fmt, output=out)
    assert (summary.events, summary.optimizations) == (15, 3)
    assert summary.bytes == out.stat().st_size

    parsed = read_import(out)
    assert parsed.format == fmt
    assert [r.origin for r in parsed.records] == [f"{STORE}/{r.seq}" for r in recs]
    assert [r.ts_ns for r in parsed.records] == [r.ts_ns for r in recs]
    assert [r.schema for r in parsed.records] == [r.schema for r in recs]
    assert [r.tag for r in parsed.records] == [event_tag(r.event) for r in recs]
    known = [encode_event(r.event) for r in recs[:-1]]  # type: ignore[arg-type]
    assert [r.event for r in parsed.records[:-1]] == known
    assert parsed.records[-1].event == recs[-1].event.raw  # type: ignore[union-attr]


def test_an_imported_event_keeps_its_first_origin(tmp_path: Path) -> None:
    recs = records(history(1), origin="otherstore/9")
    out = tmp_path / "x.jsonl"
    export(recs, store_id=STORE, fmt="jsonl", output=out)
    assert {r.origin for r in read_import(out).records} == {"otherstore/9"}


def test_csv_has_one_readable_row_per_optimization(tmp_path: Path) -> None:
    out = tmp_path / "history.csv"
    export(records(history(2)), store_id=STORE, fmt="csv", output=out)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert [r["id"] for r in rows] == ["opt0000", "opt0001"]
    first = rows[0]
    assert first["original"].startswith('write some stuff about dogs, "quoted" — número 0\n')
    assert first["optimized"].startswith("## Task\n")
    assert (first["score_before"], first["score_after"]) == ("31", "79")
    assert first["cost_usd"] == "0.001235"
    assert first["finding_codes"] == "PD003 PD002"
    assert (first["findings"], first["changes"], first["cached"]) == ("2", "1", "no")
    assert first["at"] == "2026-09-21T14:13:25.000Z"


def test_csv_cells_never_run_as_spreadsheet_formulas(tmp_path: Path) -> None:
    recs = records(history(1))
    opt = recs[4].event
    evil = msgspec.structs.replace(opt, original='=HYPERLINK("http://x","y")', optimized="-1+1")  # type: ignore[type-var]
    recs[4] = msgspec.structs.replace(recs[4], event=evil)
    out = tmp_path / "h.csv"
    export(recs, store_id=STORE, fmt="csv", output=out)
    [row] = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert row["original"] == '\'=HYPERLINK("http://x","y")'
    assert row["optimized"] == "'-1+1"
    jsonl = tmp_path / "h.jsonl"
    export(recs, store_id=STORE, fmt="jsonl", output=jsonl)
    assert '"original":"=HYPERLINK' in jsonl.read_text()


def test_json_is_one_document_with_the_optimizations_spelled_out(tmp_path: Path) -> None:
    out = tmp_path / "history.json"
    export(records(history(2)), store_id=STORE, fmt="json", output=out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "promptd-export" and doc["store_id"] == STORE
    assert len(doc["events"]) == 10
    opt = doc["optimizations"][1]
    assert opt["id"] == "opt0001"
    assert opt["scores_after"]["structure"] == 90
    assert opt["findings"][0]["span"] == {"start": 6, "end": 10, "line": 1, "col": 7}
    assert opt["changes"] == [
        {"description": "added a task section", "findings": ["PD002"], "kind": "edit"}
    ]
    assert opt["cost_usd"] == pytest.approx(0.0012345678)


def test_zip_holds_events_csv_and_a_readme(tmp_path: Path) -> None:
    out = tmp_path / "history.zip"
    export(records(history(1)), store_id=STORE, fmt="zip", output=out)
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["README.txt", "events.jsonl", "optimizations.csv"]
        assert len(zf.read("events.jsonl").splitlines()) == 6
        assert zf.read("optimizations.csv").decode().count("opt0000") == 1
        assert "promptd import" in zf.read("README.txt").decode()


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "zip"])
def test_no_api_key_reaches_an_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    key = "xai-SECRETSECRETSECRET0123456789"
    monkeypatch.setenv("XAI_API_KEY", key)
    events = history(1)
    leaky = records(events)
    # Even a prompt someone pasted their key into does not carry it out.
    opt = leaky[4]
    leaky[4] = type(opt)(
        seq=opt.seq, ts_ns=opt.ts_ns, schema=1,
        event=type(opt.event)(**{
            **{f: getattr(opt.event, f) for f in opt.event.__struct_fields__},
            "original": f"my key is {key}",
        }),
    )  # fmt: skip
    out = tmp_path / f"x.{fmt}"
    export(leaky, store_id=STORE, fmt=fmt, output=out)
    blobs = [out.read_bytes()]
    if fmt == "zip":
        with zipfile.ZipFile(out) as zf:
            blobs = [zf.read(n) for n in zf.namelist()]
    assert not any(key.encode() in b for b in blobs)
    assert any(b"[redacted]" in b for b in blobs)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _good_lines(tmp_path: Path) -> list[str]:
    out = tmp_path / "good.jsonl"
    export(records(history(1)), store_id=STORE, fmt="jsonl", output=out)
    return out.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    ("mangle", "line", "reason"),
    [
        (lambda s: "{not json", 3, "not a JSON object"),
        (lambda s: s.replace('"ts_ns":', '"ts":'), 3, "missing required field `ts_ns`"),
        (
            lambda s: s.replace('"origin":"st0re1d/3"', '"origin":"nope"'),
            3,
            "is not 'STORE_ID/SEQ'",
        ),
        (
            lambda s: s.replace('"cost_ticks":12345678', '"cost_ticks":"lots"'),
            4,
            "provider.call_completed event: expected `int`, got `str` - at `$.cost_ticks`",
        ),
        (
            lambda s: s.replace('"type":"provider.call_completed"', '"type":"from.the.future"'),
            4,
            "event type 'from.the.future' is unknown",
        ),
    ],
)
def test_a_bad_line_refuses_the_file_with_its_number_and_reason(
    tmp_path: Path, mangle: object, line: int, reason: str
) -> None:
    lines = _good_lines(tmp_path)
    lines[line - 1] = mangle(lines[line - 1])  # type: ignore[operator]
    bad = _write(tmp_path / "bad.jsonl", lines)
    with pytest.raises(BackupError) as err:
        read_import(bad)
    assert f"bad.jsonl, line {line}: " in str(err.value)
    assert reason in str(err.value)
    assert "nothing was imported" in str(err.value)


def test_blank_lines_and_a_bom_are_fine(tmp_path: Path) -> None:
    lines = _good_lines(tmp_path)
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\n\n".join(lines).encode() + b"\n\n")
    assert len(read_import(path).records) == len(lines)


def test_files_that_are_not_event_exports_are_refused_clearly(tmp_path: Path) -> None:
    out = tmp_path / "h.csv"
    export(records(history(1)), store_id=STORE, fmt="csv", output=out)
    with pytest.raises(BackupError, match="CSV export: it holds the history table, not the events"):
        read_import(out)
    with pytest.raises(BackupError, match="no such file"):
        read_import(tmp_path / "missing.jsonl")
    fake_zip = tmp_path / "f.zip"
    with zipfile.ZipFile(fake_zip, "w") as zf:
        zf.writestr("notes.txt", "hello")
    with pytest.raises(BackupError, match=r"holds no events\.jsonl"):
        read_import(fake_zip)
    other = _write(tmp_path / "o.json", ['{"format": "something-else", "events": []}'])
    with pytest.raises(BackupError, match="format is 'something-else'"):
        read_import(other)
    broken_json = tmp_path / "b.json"
    export(records(history(1)), store_id=STORE, fmt="json", output=broken_json)
    text = broken_json.read_text().replace('"schema":1', '"schema":0', 1)
    broken_json.write_text(text)
    with pytest.raises(BackupError, match=r"b.json, events\[0\]: schema 0 is not a schema version"):
        read_import(broken_json)


def test_export_refuses_a_folder_and_an_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="is a folder; give a file name"):
        export([], store_id=STORE, fmt="jsonl", output=tmp_path)
    with pytest.raises(BackupError, match="unknown export format 'xml'"):
        export([], store_id=STORE, fmt="xml", output=tmp_path / "x.xml")
    with pytest.raises(BackupError, match=r"cannot write .*; choose another --output"):
        export([], store_id=STORE, fmt="jsonl", output=tmp_path / "no" / "such" / "dir.jsonl")
    assert list(tmp_path.iterdir()) == []
