"""The run's checkpointer (``pipeline/checkpoints.py``): each channel value written once per version,
only the last step kept, and a run resumable from it, on a small graph of its own."""

from __future__ import annotations

import operator
import sqlite3
import threading
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, ConfigDict, computed_field

from pipeline.checkpoints import LatestSaver
from pipeline.graph import CHECKPOINT_TYPES, checkpointer

BIG = "x" * 200_000  # a value big enough that one more copy shows in the file


class State(TypedDict):
    big: str
    steps: Annotated[list[str], operator.add]


class Boom(Exception):
    pass


def _graph(fail_at: str | None = None) -> Any:
    def step(name: str) -> Any:
        def run(state: State) -> dict[str, Any]:
            if name == fail_at:
                raise Boom(name)
            return {"steps": [name]}

        return run

    graph = StateGraph(State)
    for name in ("a", "b", "c", "d"):
        graph.add_node(name, step(name))
    graph.add_edge(START, "a")
    graph.add_edge("a", "b")
    graph.add_edge("b", "c")
    graph.add_edge("c", "d")
    graph.add_edge("d", END)
    return graph


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_a_value_is_written_once_and_only_the_last_step_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    saver = checkpointer(path)
    assert isinstance(saver, LatestSaver)
    config = {"configurable": {"thread_id": "t"}}
    out = _graph().compile(checkpointer=saver).invoke({"big": BIG, "steps": []}, config)
    assert out == {"big": BIG, "steps": ["a", "b", "c", "d"]}
    assert len(_rows(path, "SELECT * FROM checkpoints")) == 1  # 6 checkpoints were written
    assert _rows(path, "SELECT COUNT(*) FROM blobs WHERE channel = 'big'") == [(1,)]
    assert _rows(path, "SELECT COUNT(*) FROM writes") == [(0,)]
    inline = _rows(path, "SELECT MAX(LENGTH(checkpoint)) FROM checkpoints")[0][0]
    assert inline < 10_000  # the values are not inline
    state = saver.get_tuple(config)
    assert state is not None and state.checkpoint["channel_values"] == {
        "big": BIG,
        "steps": ["a", "b", "c", "d"],
    }
    assert [t.checkpoint["channel_values"]["steps"] for t in saver.list(config)] == [["a", "b", "c", "d"]]
    saver.conn.close()


def test_a_killed_run_resumes_from_its_last_step(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    config = {"configurable": {"thread_id": "t"}}
    saver = checkpointer(path)
    with pytest.raises(Boom):
        _graph(fail_at="c").compile(checkpointer=saver).invoke({"big": BIG, "steps": []}, config)
    saver.conn.close()
    saver = checkpointer(path)
    done = _graph().compile(checkpointer=saver).invoke(None, config)
    assert done == {"big": BIG, "steps": ["a", "b", "c", "d"]}  # a and b not run again
    saver.conn.close()


def test_the_store_holds_one_state_where_every_step_held_its_own(tmp_path: Path) -> None:
    config = {"configurable": {"thread_id": "t"}}
    sizes = {}
    for name, make in (
        ("old", lambda conn: SqliteSaver(conn, serde=JsonPlusSerializer())),
        ("new", lambda conn: LatestSaver(conn, serde=JsonPlusSerializer())),
    ):
        path = tmp_path / f"{name}.sqlite"
        conn = sqlite3.connect(path, check_same_thread=False)
        _graph().compile(checkpointer=make(conn)).invoke({"big": BIG, "steps": []}, config)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        sizes[name] = path.stat().st_size
    assert sizes["old"] > 6 * len(BIG)  # the value in the input and in each of the 6 checkpoints
    # at most the input's write, the start channel's value and the state's, while one step is saved
    assert sizes["new"] < 3.5 * len(BIG)


def test_a_checkpoint_written_inline_by_an_earlier_saver_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    config = {"configurable": {"thread_id": "t"}}
    conn = sqlite3.connect(path, check_same_thread=False)
    with pytest.raises(Boom):
        _graph(fail_at="c").compile(checkpointer=SqliteSaver(conn, serde=JsonPlusSerializer())).invoke(
            {"big": BIG, "steps": []}, config
        )
    conn.close()
    saver = checkpointer(path)
    found = saver.get_tuple(config)
    assert found is not None
    values = found.checkpoint["channel_values"]
    assert (values["big"], values["steps"]) == (BIG, ["a", "b"])
    assert _graph().compile(checkpointer=saver).invoke(None, config)["steps"] == ["a", "b", "c", "d"]
    saver.conn.close()


class Report(BaseModel):
    title: str
    rows: list[str]


class Counting(JsonPlusSerializer):
    """The saver's serializer, counting what it serializes by type."""

    def __init__(self) -> None:
        super().__init__()
        self.dumped: list[str] = []

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        self.dumped.append(type(obj).__name__)
        return super().dumps_typed(obj)


class ReportState(TypedDict):
    report: Report | None
    steps: Annotated[list[str], operator.add]


def _report_graph(fail_at: str | None = None) -> Any:
    def make(state: ReportState) -> dict[str, Any]:
        return {"report": Report(title="t", rows=[BIG]), "steps": ["make"]}

    def after(state: ReportState) -> dict[str, Any]:
        if fail_at == "after":
            raise Boom("after")
        return {"steps": ["after"]}

    return _two_steps(ReportState, make, after)


def _two_steps(state: Any, make: Any, after: Any) -> Any:
    """START -> make -> after -> END over ``state``."""
    graph = StateGraph(state)
    graph.add_node("make", make)
    graph.add_node("after", after)
    graph.add_edge(START, "make")
    graph.add_edge("make", "after")
    graph.add_edge("after", END)
    return graph


def test_a_model_a_task_writes_is_serialized_once_for_its_write_and_the_checkpoint(tmp_path: Path) -> None:
    """A node's result is a pending write and then the channel's new value: the same object, serialized
    once (the report of a 10k-pod run took 0.28 s each time); the checkpoint still holds it, and a run
    killed in the next step resumes with it."""
    path = tmp_path / "run.sqlite"
    config = {"configurable": {"thread_id": "t"}}
    serde = Counting()
    conn = sqlite3.connect(path, check_same_thread=False)
    with pytest.raises(Boom):
        _report_graph(fail_at="after").compile(checkpointer=LatestSaver(conn, serde=serde)).invoke(
            {"report": None, "steps": []}, config
        )
    assert serde.dumped.count("Report") == 1
    assert _rows(path, "SELECT COUNT(*) FROM blobs WHERE channel = 'report' AND type != 'empty'") == [(1,)]
    conn.close()
    test_types = [*CHECKPOINT_TYPES, (__name__, "Report")]
    saver = LatestSaver(
        sqlite3.connect(path, check_same_thread=False),
        serde=JsonPlusSerializer(allowed_msgpack_modules=test_types),
    )
    found = saver.get_tuple(config)
    assert found is not None and found.checkpoint["channel_values"]["report"] == Report(title="t", rows=[BIG])
    done = _report_graph().compile(checkpointer=saver).invoke(None, config)
    assert done == {"report": Report(title="t", rows=[BIG]), "steps": ["make", "after"]}
    saver.conn.close()


def test_two_threads_asking_for_one_model_serialize_it_once_and_a_failure_is_not_remembered() -> None:
    """LangGraph writes a step's pending writes and its checkpoint from two threads at once: the second
    to ask waits for the first's bytes; a serialization that failed is done again by the other use."""
    from pipeline.checkpoint_values import Once

    once, model = Once(), Report(title="t", rows=["r"])
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow(value: Any) -> tuple[str, bytes]:
        calls.append("dump")
        started.set()
        release.wait(10)
        return "msgpack", b"bytes"

    got: list[tuple[str, bytes]] = []
    first = threading.Thread(target=lambda: got.append(once.dumps(model, slow)))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=lambda: got.append(once.dumps(model, slow)))
    second.start()
    release.set()
    first.join(10)
    second.join(10)
    assert calls == ["dump"] and got == [("msgpack", b"bytes")] * 2
    assert once.dumps(model, lambda v: ("msgpack", b"third")) == ("msgpack", b"third")  # forgotten

    def broken(value: Any) -> tuple[str, bytes]:
        raise ValueError("no")

    other = Report(title="u", rows=[])
    with pytest.raises(ValueError):
        once.dumps(other, broken)
    assert once.dumps(other, lambda v: ("msgpack", b"again")) == ("msgpack", b"again")


def test_a_value_written_as_a_task_s_write_and_as_the_channel_s_value_is_stored_once(tmp_path: Path) -> None:
    """The report is a pending write of its step and then the channel's value in the next checkpoint:
    the same bytes, stored once by their digest (at 10k pods the two copies set the file's size)."""
    path = tmp_path / "run.sqlite"
    config = {"configurable": {"thread_id": "t"}}
    test_types = [*CHECKPOINT_TYPES, (__name__, "Report")]
    conn = sqlite3.connect(path, check_same_thread=False)
    saver = LatestSaver(conn, serde=JsonPlusSerializer(allowed_msgpack_modules=test_types))
    graph = _report_graph(fail_at="after").compile(checkpointer=saver)
    with pytest.raises(Boom):
        graph.invoke({"report": None, "steps": []}, config)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert path.stat().st_size < 1.5 * len(BIG)  # one copy, where the write and the value made two
    assert _rows(path, "SELECT COUNT(*) FROM stored_values") == [(1,)]
    assert _rows(path, "SELECT type FROM blobs WHERE channel = 'report'") == [("ref:msgpack",)]
    conn.close()
    saver = checkpointer(path)  # a new process: the value read back from its one copy, and resumed
    saver.serde.inner = JsonPlusSerializer(allowed_msgpack_modules=test_types)  # type: ignore[attr-defined]
    found = saver.get_tuple(config)
    assert found is not None and found.checkpoint["channel_values"]["report"] == Report(title="t", rows=[BIG])
    done = _report_graph().compile(checkpointer=saver).invoke(None, config)
    assert done == {"report": Report(title="t", rows=[BIG]), "steps": ["make", "after"]}
    assert _rows(path, "SELECT COUNT(*) FROM stored_values") == [(1,)]
    saver.delete_thread("t")
    assert _rows(path, "SELECT COUNT(*) FROM stored_values") == [(0,)]
    saver.conn.close()


def test_a_stored_value_no_write_or_blob_names_is_deleted(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    config = {"configurable": {"thread_id": "t"}}
    saver = checkpointer(path)
    graph = _graph().compile(checkpointer=saver)
    graph.invoke({"big": BIG, "steps": []}, config)
    graph.invoke({"big": BIG.replace("x", "y"), "steps": []}, config)  # the thread's next run: a new value
    assert _rows(path, "SELECT COUNT(*) FROM stored_values") == [(1,)]
    assert saver.get_tuple(config).checkpoint["channel_values"]["big"] == BIG.replace("x", "y")  # type: ignore[union-attr]
    saver.conn.close()


SIZED_CALLS: list[int] = []


class Sized(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: list[str]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def size(self) -> int:
        SIZED_CALLS.append(1)
        return len(self.rows)


class SizedState(TypedDict):
    sized: Sized | None
    steps: Annotated[list[str], operator.add]


def test_a_model_is_checkpointed_without_its_computed_fields_and_read_back_whole(tmp_path: Path) -> None:
    """Computed fields are derived: the checkpoint does not work them out (the report's occurrence
    keys, 0.1 s at 10k pods), and the model read back is the one written, validated."""

    def make(state: SizedState) -> dict[str, Any]:
        return {"sized": Sized(rows=["a", "b"]), "steps": ["make"]}

    def after(state: SizedState) -> dict[str, Any]:
        raise Boom("after")

    graph = _two_steps(SizedState, make, after)
    path = tmp_path / "run.sqlite"
    config = {"configurable": {"thread_id": "t"}}
    serde = JsonPlusSerializer(allowed_msgpack_modules=[*CHECKPOINT_TYPES, (__name__, "Sized")])
    saver = LatestSaver(sqlite3.connect(path, check_same_thread=False), serde=serde)
    SIZED_CALLS.clear()
    with pytest.raises(Boom):
        graph.compile(checkpointer=saver).invoke({"sized": None, "steps": []}, config)
    assert SIZED_CALLS == []
    found = saver.get_tuple(config)
    assert found is not None
    sized = found.checkpoint["channel_values"]["sized"]
    assert type(sized) is Sized and sized == Sized(rows=["a", "b"]) and sized.size == 2
    saver.conn.close()


class Item(BaseModel):
    rows: list[str]


class Holder(BaseModel):
    title: str
    concerns: dict[str, Item]


def _merge(left: dict[str, Item], right: dict[str, Item]) -> dict[str, Item]:
    return {**left, **right}


class ItemsState(TypedDict):
    results: Annotated[dict[str, Item], _merge]
    report: Holder | None
    steps: Annotated[list[str], operator.add]


def _items_graph(fail_at: str | None = None) -> Any:
    def research(state: ItemsState) -> dict[str, Any]:
        return {"results": {"a": Item(rows=[BIG]), "b": Item(rows=[BIG.replace("x", "b")])}, "steps": ["r"]}

    def synth(state: ItemsState) -> dict[str, Any]:
        return {"report": Holder(title="t", concerns=dict(state["results"])), "steps": ["s"]}

    def after(state: ItemsState) -> dict[str, Any]:
        if fail_at == "after":
            raise Boom("after")
        return {"steps": ["after"]}

    graph = StateGraph(ItemsState)
    for name, node in (("research", research), ("synth", synth), ("after", after)):
        graph.add_node(name, node)
    graph.add_edge(START, "research")
    graph.add_edge("research", "synth")
    graph.add_edge("synth", "after")
    graph.add_edge("after", END)
    return graph


def test_models_a_write_the_channel_and_a_report_hold_are_stored_once(tmp_path: Path) -> None:
    """The research results are a task's write, the results channel's value and the report's concerns:
    each model is stored once, and read back as one object shared by the channel and the report."""
    path = tmp_path / "run.sqlite"
    config = {"configurable": {"thread_id": "t"}}
    types = [*CHECKPOINT_TYPES, *((__name__, name) for name in ("Item", "Holder"))]
    serde = JsonPlusSerializer(allowed_msgpack_modules=types)
    conn = sqlite3.connect(path, check_same_thread=False)
    with pytest.raises(Boom):
        _items_graph("after").compile(checkpointer=LatestSaver(conn, serde=serde)).invoke(
            {"results": {}, "report": None, "steps": []}, config
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert path.stat().st_size < 2.5 * len(BIG)  # two models once each; the old saver held 6 copies
    assert _rows(path, "SELECT type FROM blobs WHERE channel IN ('results', 'report') ORDER BY channel") == [
        ("items:msgpack",),
        ("items:msgpack",),
    ]
    saver = LatestSaver(sqlite3.connect(path, check_same_thread=False), serde=serde)
    found = saver.get_tuple(config)
    assert found is not None
    values = found.checkpoint["channel_values"]
    assert values["report"] == Holder(title="t", concerns=values["results"])
    assert values["report"].concerns["a"] is values["results"]["a"]  # one object on the way back
    again = saver.get_tuple(config)  # another read: objects of its own, not the first read's
    assert (
        again is not None and again.checkpoint["channel_values"]["results"]["a"] is not values["results"]["a"]
    )
    done = _items_graph().compile(checkpointer=saver).invoke(None, config)
    assert done["steps"] == ["r", "s", "after"] and done["report"].concerns["b"].rows == [
        BIG.replace("x", "b")
    ]
    assert _rows(path, "SELECT COUNT(*) FROM stored_values") == [(3,)]  # the two models, the report's rest
    saver.conn.close()


def test_a_model_serialized_before_is_stored_again_when_its_value_was_pruned(tmp_path: Path) -> None:
    """A model's digest is remembered by identity; if nothing kept its stored value, the next row that
    names it stores it again (serialized afresh), and it reads back."""
    types = [*CHECKPOINT_TYPES, (__name__, "Item")]
    saver = LatestSaver(
        sqlite3.connect(tmp_path / "run.sqlite", check_same_thread=False),
        serde=JsonPlusSerializer(allowed_msgpack_modules=types),
    )
    item = Item(rows=["r"])
    saver._dumps({"a": item})  # remembered, never stored
    typed, extras = saver._dumps({"a": item})
    assert list(extras.values()) == [item]  # named by its digest only
    with saver.cursor() as cur:
        row = saver._store(cur, "t", "", (typed, extras))
    assert saver.serde.loads_typed(row) == {"a": item}
    saver.conn.close()
