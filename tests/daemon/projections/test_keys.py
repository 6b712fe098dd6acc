"""Key parts of the projection tables: a digest is stored as its bytes, other text as is, and
no key part starts with another (so a prefix scan finds exactly one digest's entries; text
holding a ``/`` is the documented exception, and never a digest or an id)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from promptd.daemon.projections.base import text_key

hex_digests = st.binary(min_size=1, max_size=255).map(bytes.hex)
texts = st.one_of(
    hex_digests,
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), max_size=40),
)


def test_a_lowercase_hex_digest_is_stored_as_its_bytes() -> None:
    digest = "deadbeef" * 8  # sha256-sized
    assert text_key(digest) == b"#\x20" + bytes.fromhex(digest)


def test_text_that_is_not_a_lowercase_hex_digest_is_kept_as_text() -> None:
    for text in ("", "abc", "DEADBEEF", "dead beef", "ab\n", "opt-1", "0" * 512, "é0"):
        assert text_key(text) == b"=" + text.encode() + b"/"


@given(a=texts, b=texts)
def test_no_key_part_starts_with_another(a: str, b: str) -> None:
    ka, kb = text_key(a), text_key(b)
    if a != b:
        assert not ka.startswith(kb)
        assert not kb.startswith(ka)
    else:
        assert ka == kb
