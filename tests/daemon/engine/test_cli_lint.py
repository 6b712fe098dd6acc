"""`promptd lint`: offline findings, human and JSON output, exit codes like ruff."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from promptd.daemon.cli import cli

BAD = "please write some stuff about dogs, DONT make it boring!!!"
GOOD = (
    "Classify the sentiment of the review below as positive, negative or neutral.\n"
    'Answer with the label only.\n\nReview: """{review}"""'
)


def invoke(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["lint", *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def test_findings_as_line_col_code_severity_message_and_exit_1() -> None:
    code, out, _ = invoke(BAD)
    assert code == 1
    lines = out.splitlines()
    assert '1:14 PD003 warning Vague term "some".' in out
    assert any(line.startswith('1:37 PD012 warning Shouting "DONT"') for line in lines)
    assert "[needs your input]" in out
    assert lines[-1].startswith(f"{len(lines) - 1} findings; score ")
    assert "(general, detected)" in lines[-1]


def test_info_only_findings_exit_0() -> None:
    code, out, _ = invoke(GOOD)
    assert code == 0
    assert out.splitlines()[0].startswith("1:1 PD018 info")


def test_json_is_a_list_of_findings() -> None:
    code, out, _ = invoke(BAD, "--json", "--type", "creative")
    assert code == 1
    data = json.loads(out)
    assert isinstance(data, list) and data
    first = data[0]
    assert {"code", "severity", "message", "span", "needs_input", "rule"} <= set(first)
    assert {"line", "col", "start", "end"} <= set(first["span"])


def test_reads_stdin_and_files(tmp_path: Path) -> None:
    code, out, _ = invoke("-", input=GOOD)
    assert code == 0 and "PD018" in out
    path = tmp_path / "p.prompt"
    path.write_text(BAD, encoding="utf-8")
    code, out, _ = invoke("--file", str(path))
    assert code == 1 and "PD012" in out


def test_clear_errors() -> None:
    code, _, err = invoke("text", "--file", "x.txt")
    assert code == 2 and "not both" in err
    result = CliRunner().invoke(cli, ["lint", "--file", "/nonexistent/p.txt"])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception) and "cannot read" in str(result.exception)
    result = CliRunner().invoke(cli, ["lint", "-"], input="   ")
    assert "empty" in str(result.exception)
