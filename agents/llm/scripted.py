"""Two ``ModelClient``s for tests: a queue of replies, and a function of the request.

Neither can pass for a real model: every reply they return is relabelled with their own model name
("scripted", "function"), whatever the script says, so a report or a usage row written from them
says so. Both record every request they were sent, for assertions. ``RecordingModel`` is that shared
part (``ChaosModel`` in ``chaos.py`` is the third).

``ScriptedModel`` fails loudly on a request nobody planned (an empty queue): a test that makes one
more model call than it scripted is a test that no longer knows what the agent does. The
``AssertionError`` names the agent and summarises the request, so the failing turn is plain to see.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable

from agents.llm.protocol import ModelReply, ModelRequest, TextBlock, ToolResultBlock

Script = Iterable[ModelReply | Exception]


def summarize(request: ModelRequest) -> str:
    """One line about a request: agent, turn count, tools offered, tool_choice, and the last message."""
    last = request.messages[-1] if request.messages else None
    texts = [
        b.text if isinstance(b, TextBlock) else b.content
        for b in (last.content if last else [])
        if isinstance(b, TextBlock | ToolResultBlock)
    ]
    kinds = [b.type for b in (last.content if last else [])]
    tail = " ".join(f"[{', '.join(kinds)}] {' | '.join(t for t in texts if t)}".split())
    if len(tail) > 160:
        tail = tail[:157] + "..."
    tools = ", ".join(t.name for t in request.tools) or "none"
    choice = request.tool_choice
    chosen = (choice.name or choice.mode) if choice is not None else "default"
    return (
        f"agent {request.agent!r}, {len(request.messages)} message(s), tools [{tools}], "
        f"tool_choice {chosen}, last {last.role if last else '?'}: {tail}"
    )


class RecordingModel:
    """What the test ``ModelClient``s share: a model name that relabels every reply (so none can pass
    for a real model), a fixed ``endpoint``, and a thread-safe record of every request."""

    ENDPOINT = "recording"

    def __init__(self, model: str) -> None:
        self._model = model
        self._lock = threading.Lock()
        self.requests: list[ModelRequest] = []

    @property
    def model(self) -> str:
        return self._model

    @property
    def endpoint(self) -> str:
        return self.ENDPOINT

    def close(self) -> None:
        return None

    def relabel(self, reply: ModelReply) -> ModelReply:
        """A deep copy of ``reply`` under this model's own name."""
        return reply.model_copy(update={"model": self._model}, deep=True)


class ScriptedModel(RecordingModel):
    """A queue of replies (or exceptions to raise), consumed one per ``complete``. Thread-safe."""

    ENDPOINT = "scripted"

    def __init__(self, replies: Script, model: str = "scripted") -> None:
        super().__init__(model)
        self._queue: deque[ModelReply | Exception] = deque(replies)

    @property
    def remaining(self) -> int:
        """Replies not yet consumed; a test can assert the script was played to the end."""
        with self._lock:
            return len(self._queue)

    def complete(self, request: ModelRequest) -> ModelReply:
        with self._lock:
            self.requests.append(request)
            if not self._queue:
                raise AssertionError(
                    f"unplanned request to the scripted model (request #{len(self.requests)}, "
                    f"script exhausted): {summarize(request)}"
                )
            item = self._queue.popleft()
        if isinstance(item, Exception):
            raise item
        return self.relabel(item)


class FunctionModel(RecordingModel):
    """Answers each request with ``fn(request)``; for tests whose replies depend on what was asked."""

    ENDPOINT = "function"

    def __init__(self, fn: Callable[[ModelRequest], ModelReply], model: str = "function") -> None:
        super().__init__(model)
        self._fn = fn

    def complete(self, request: ModelRequest) -> ModelReply:
        with self._lock:
            self.requests.append(request)
        return self.relabel(self._fn(request))
