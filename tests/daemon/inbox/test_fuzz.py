"""Fuzz the inbox (hypothesis): any name, any bytes, in any format.

Properties: parsing never fails with anything but a clear InboxError, and a result can
always be written for what parsed; in a real daemon every dropped file ends in done/ or
failed/ (beside an .error.txt), byte for byte, the daemon keeps running, and nothing stays.
Bounded: a few examples, each a handful of files.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from promptd.daemon.errors import InboxError
from promptd.daemon.inbox.formats import FORMATS, parse
from promptd.daemon.inbox.output import render
from promptd.daemon.inbox.stability import is_temporary
from promptd.daemon.paths import resolve

from .harness import inbox_service, running_daemon, until

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _json_bytes(value: object) -> bytes:
    import json

    return json.dumps(value).encode()


CONTENTS = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(st.one_of(st.text(max_size=80), JSONISH), max_size=6).map(_json_bytes),
    st.lists(st.text(max_size=60), max_size=5).map(
        lambda rows: ("prompt,id\n" + "".join(f'"{r}",x\n' for r in rows)).encode(
            "utf-8", "surrogatepass"
        )
    ),
    st.sampled_from(
        [
            b"[" * 5000 + b"]" * 5000,
            b'["\\ud800"]',
            b'[{"id": ' + b"7" * 5000 + b', "prompt": "p"}]',
            b"prompt\n" + b"y" * 140_000 + b"\n",
        ]
    ),
)
NAMES = st.tuples(
    st.binary(min_size=1, max_size=245).filter(lambda b: b"/" not in b and b"\0" not in b),
    st.sampled_from([*FORMATS, "exe", ""]),
).map(lambda t: t[0] + (b"." + t[1].encode() if t[1] else b""))


def _usable_name(raw: bytes) -> bool:
    name = os.fsdecode(raw)
    return (
        len(raw) <= 255
        and raw not in (b".", b"..", b"done", b"failed")
        and not is_temporary(name)
        and not name.endswith(".error.txt")
    )


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from([f"f.{f}" for f in FORMATS]), data=CONTENTS)
@example(name="f.csv", data=b"\r\x01")  # found by this test: a lone CR broke the sniffing
def test_parse_fails_only_with_a_clear_error_and_renders(name: str, data: bytes) -> None:
    try:
        parsed = parse(name, data, 1 << 20)
    except InboxError as exc:
        assert str(exc).startswith("f.") and "; " in str(exc)
        return
    out = render(parsed, {})
    out.decode("utf-8")  # always valid UTF-8


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(files=st.dictionaries(NAMES.filter(_usable_name), CONTENTS, min_size=1, max_size=6))
def test_every_dropped_file_ends_in_done_or_failed(files: dict[bytes, bytes]) -> None:
    import shutil
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="fz"))  # one home per example

    async def scenario() -> None:
        paths = resolve(home)
        async with running_daemon(home, "[inbox]\nstable_s = 0.1\nscan_interval_s = 1\n") as d:
            inbox = os.fsencode(paths.inbox)
            for raw, data in files.items():
                with open(inbox + b"/" + raw, "wb") as fh:
                    fh.write(data)

            def settled() -> bool:
                left = [n for n in os.listdir(inbox) if n not in (b"done", b"failed")]
                if left or inbox_service(d).runner.running:
                    return False
                failed = os.listdir(inbox + b"/failed")
                errors = {n for n in failed if n.endswith(b".error.txt")}
                writing = [n for n in failed if n.startswith(b".")]  # an .error.txt on its way
                return not writing and all(
                    n + b".error.txt" in errors or n in errors for n in failed
                )

            await until(settled, 60, "every file out of the inbox")
            kept: Counter[bytes] = Counter()
            for sub in (b"done", b"failed"):
                for n in os.listdir(inbox + b"/" + sub):
                    if not n.endswith(b".error.txt"):
                        with open(inbox + b"/" + sub + b"/" + n, "rb") as fh:
                            kept[fh.read()] += 1
                    else:
                        with open(inbox + b"/" + sub + b"/" + n, "rb") as fh:
                            reason = fh.read().decode("utf-8")
                        assert "; " in reason and "Traceback" not in reason
            assert kept == Counter(files.values())  # nothing lost, nothing doubled
            failed = [n for n in os.listdir(inbox + b"/failed") if not n.endswith(b".error.txt")]
            errors = [n for n in os.listdir(inbox + b"/failed") if n.endswith(b".error.txt")]
            assert len(errors) == len(failed)  # each failed file is explained
            for n in os.listdir(inbox + b"/failed"):
                n.decode("utf-8")  # every name there is printable UTF-8

    try:
        asyncio.run(scenario())
    finally:
        shutil.rmtree(home, ignore_errors=True)
