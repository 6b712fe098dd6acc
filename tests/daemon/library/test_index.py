"""The library index and its feeds: ranking, verdicts, checkpoint, files, rebuild."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from promptd.daemon.events import (
    OptimizationCompleted,
    OptimizationKept,
    OptimizationRejected,
    Record,
)
from promptd.daemon.library import feed
from promptd.daemon.library.index import KEPT, REJECTED, Doc, LibraryIndex, similarity
from promptd.daemon.values import Scores

FIX = "fix the bug in this python code and explain what was wrong"
POEM = "write a short poem about autumn leaves for children"


def _scores(total: int) -> Scores:
    return Scores(
        clarity=total, specificity=total, structure=total, completeness=total, total=total
    )


def _done(
    opt_id: str, text: str, *, score: int = 80, cached: bool = False
) -> OptimizationCompleted:
    return OptimizationCompleted(
        opt_id=opt_id,
        prompt_hash=opt_id * 4,
        original=text,
        optimized=f"Better: {text}",
        prompt_type="code",
        score_after=_scores(score),
        cached=cached,
    )


def _records(*events: object) -> list[Record]:
    return [Record(seq, 1_700_000_000_000_000_000 + seq, 1, ev) for seq, ev in enumerate(events, 1)]  # type: ignore[arg-type]


@pytest.fixture
def index(tmp_path: Path) -> LibraryIndex:
    ix = LibraryIndex(tmp_path / "library")
    ix.open("store-1")
    yield ix
    ix.close()


def test_the_closer_prompt_ranks_first_with_its_similarity(index: LibraryIndex) -> None:
    feed.fold_records(index, _records(_done("a", FIX), _done("b", POEM)))
    hits = index.search("please fix the python bug and explain it", 5)
    assert [h.doc.doc_id for h in hits] == ["opt:a"]
    assert hits[0].doc.result == f"Better: {FIX}" and hits[0].doc.score == 80
    assert 50 <= hits[0].similarity <= 100
    assert index.state.seq == 2


def test_a_kept_rewrite_ranks_first_and_a_rejected_one_is_not_offered(index: LibraryIndex) -> None:
    feed.fold_records(
        index,
        _records(
            _done("a", "summarize the meeting notes into action items"),
            _done("b", "summarize the meeting notes into action items please"),
            OptimizationKept(opt_id="b"),
        ),
    )
    hits = index.search("summarize the meeting notes into action items", 5)
    assert hits[0].doc.doc_id == "opt:b" and hits[0].doc.verdict == KEPT
    feed.fold_records(index, [Record(4, 0, 1, OptimizationRejected(opt_id="a", why="too long"))])
    offered = index.search("summarize the meeting notes", 5, include_rejected=False)
    assert [h.doc.doc_id for h in offered] == ["opt:b"]
    assert index.get("opt:a") is not None and index.get("opt:a").verdict == REJECTED  # type: ignore[union-attr]
    assert (index.state.kept, index.state.rejected) == (1, 1)


def test_a_fold_of_many_verdicts_commits_once(
    index: LibraryIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[object] = []
    for i in range(40):  # as the log has them: each verdict after its optimization
        events.append(_done(f"o{i}", f"{POEM} number {i}"))
        events.append(
            OptimizationKept(opt_id=f"o{i}") if i % 2 else OptimizationRejected(opt_id=f"o{i}")
        )
    events.append(OptimizationKept(opt_id="o0"))  # changed its mind, in the same fold
    commits: list[int] = []
    real = index.commit

    def counted(seq: int | None = None) -> None:
        commits.append(seq or 0)
        real(seq)

    monkeypatch.setattr(index, "commit", counted)
    feed.fold_records(index, _records(*events))
    assert commits == [len(events)]  # the fold's one commit, at its last record
    assert index.get("opt:o0").verdict == KEPT  # type: ignore[union-attr]
    assert index.get("opt:o1").verdict == KEPT  # type: ignore[union-attr]
    assert index.get("opt:o2").verdict == REJECTED  # type: ignore[union-attr]
    assert (index.state.kept, index.state.rejected) == (21, 20)
    assert index.counts() == {"optimization": 40, "file": 0}


def test_cache_answers_are_not_indexed_twice(index: LibraryIndex) -> None:
    feed.fold_records(index, _records(_done("a", FIX), _done("c", FIX, cached=True)))
    assert index.counts() == {"optimization": 1, "file": 0}


@pytest.mark.parametrize(
    "query", ['title:x AND "unclosed', "(((", "NOT OR AND", "ünïcødé 文字 😀", "a" * 5000, "   "]
)
def test_any_query_text_is_searchable_without_error(index: LibraryIndex, query: str) -> None:
    feed.fold_records(index, _records(_done("a", FIX)))
    assert isinstance(index.search(query, 5), list)


def test_the_index_and_its_checkpoint_survive_a_reopen_but_not_another_log(tmp_path: Path) -> None:
    ix = LibraryIndex(tmp_path / "library")
    assert ix.open("store-1") is False  # new: feed it from the start
    feed.fold_records(ix, _records(_done("a", FIX)))
    ix.close()
    again = LibraryIndex(tmp_path / "library")
    assert again.open("store-1") is True
    assert again.state.seq == 1 and again.counts()["optimization"] == 1
    again.close()
    other = LibraryIndex(tmp_path / "library")
    assert other.open("store-2") is False  # a restored or different log: start again
    assert other.state.seq == 0 and other.counts()["optimization"] == 0
    other.close()


def test_a_damaged_index_is_made_again_not_fatal(tmp_path: Path) -> None:
    ix = LibraryIndex(tmp_path / "library")
    ix.open("store-1")
    feed.fold_records(ix, _records(_done("a", FIX)))
    ix.close()
    (tmp_path / "library" / "index" / "meta.json").write_text("{not json")
    again = LibraryIndex(tmp_path / "library")
    assert again.open("store-1") is False
    assert again.counts()["optimization"] == 0
    again.close()


def test_folders_index_prompt_files_and_skip_what_cannot_be_used(tmp_path: Path) -> None:
    lib = tmp_path / "prompts"
    (lib / "sub").mkdir(parents=True)
    (lib / ".hidden").mkdir()
    (lib / "review.prompt").write_text("Review this pull request for security issues: {diff}")
    (lib / "sub" / "notes.md").write_text("Summarize the meeting notes into action items.")
    (lib / ".hidden" / "secret.prompt").write_text("not indexed")
    (lib / "binary.txt").write_bytes(b"\xff\xfe\x00bad")
    (lib / "empty.prompt").write_text("   ")
    (lib / "big.txt").write_text("x " * 2000)
    (lib / "image.png").write_bytes(b"\x89PNG")
    os.symlink(tmp_path / "outside.txt", lib / "link.txt")
    (tmp_path / "outside.txt").write_text("outside the library")

    ix = LibraryIndex(tmp_path / "library")
    ix.open("s")
    assert feed.scan_folders(ix, feed.folders_of([str(lib)]), max_bytes=1000) == 2
    assert sorted(ix.doc_ids("file")) == [
        f"file:{lib / 'review.prompt'}",
        f"file:{lib / 'sub' / 'notes.md'}",
    ]
    hit = ix.search("security review of a pull request", 1)[0]
    assert hit.doc.title == str(lib / "review.prompt")

    (lib / "review.prompt").unlink()
    (lib / "sub" / "notes.md").write_text("Turn the meeting notes into a list of decisions.")
    assert feed.scan_folders(ix, feed.folders_of([str(lib)]), max_bytes=1000) == 2
    assert ix.doc_ids("file") == [f"file:{lib / 'sub' / 'notes.md'}"]
    assert "decisions" in ix.search("meeting decisions", 1)[0].doc.text
    ix.close()


def test_rebuild_gives_what_incremental_feeding_gave(tmp_path: Path) -> None:
    records = _records(
        _done("a", FIX),
        _done("b", POEM, score=90),
        OptimizationKept(opt_id="b"),
        _done("c", "classify the sentiment of the review as positive or negative"),
        OptimizationRejected(opt_id="c"),
    )
    inc = LibraryIndex(tmp_path / "inc")
    inc.open("s")
    for rec in records:
        feed.fold_records(inc, [rec])
    counts = feed.rebuild(tmp_path / "full", "s", records, [], 1000)
    full = LibraryIndex(tmp_path / "full")
    full.open("s")
    for doc_id in ("opt:a", "opt:b", "opt:c"):
        assert inc.get(doc_id) == full.get(doc_id)
    assert counts == inc.counts() == {"optimization": 3, "file": 0}
    assert (full.state.kept, full.state.rejected, full.state.seq) == (1, 1, 5)
    inc.close()
    full.close()


def test_similarity_is_word_overlap() -> None:
    assert similarity(FIX, FIX) == 100
    assert similarity(FIX, POEM) < 20
    assert similarity("", FIX) == 0


def test_a_doc_round_trips_every_field(index: LibraryIndex) -> None:
    doc = Doc(
        doc_id="opt:z",
        kind="optimization",
        text="t",
        result="r",
        prompt_type="code",
        score=77,
        verdict=KEPT,
        ts_ns=123,
        title="x",
    )
    index.put(doc)
    index.commit()
    assert index.get("opt:z") == doc


def test_an_index_at_rest_still_answers_and_takes_new_writes(index: LibraryIndex) -> None:
    feed.fold_records(index, _records(_done("a", FIX)))
    index.rest()  # the writer is dropped and the mapped pages given back
    assert [h.doc.doc_id for h in index.search("fix the python bug", 5)] == ["opt:a"]
    feed.fold_records(index, [Record(2, 0, 1, _done("b", POEM))])  # a new writer is made
    assert [h.doc.doc_id for h in index.search("a poem about autumn leaves", 5)] == ["opt:b"]
    index.rest()
    index.rest()  # resting twice is harmless
    assert index.get("opt:a") is not None and index.state.seq == 2
