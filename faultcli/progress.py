"""How long loops report progress without printing: the CLI passes a reporter, services pass it down."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Protocol


class Task(Protocol):
    def advance(self, n: int = 1, **fields: Any) -> None: ...


class Reporter(Protocol):
    def task(self, description: str, total: int | None) -> contextlib.AbstractContextManager[Task]: ...

    def info(self, message: str) -> None: ...


class _NullTask:
    def advance(self, n: int = 1, **fields: Any) -> None:
        pass


class NullReporter:
    """Reports nothing: the default for library use and tests."""

    @contextlib.contextmanager
    def task(self, description: str, total: int | None) -> Iterator[Task]:
        yield _NullTask()

    def info(self, message: str) -> None:
        pass


class LogReporter:
    """Forwards info lines to a run's logger, and to another reporter."""

    def __init__(self, inner: Reporter, logger: Any) -> None:
        self.inner, self.logger = inner, logger

    def task(self, description: str, total: int | None) -> contextlib.AbstractContextManager[Task]:
        return self.inner.task(description, total)

    def info(self, message: str) -> None:
        self.logger.info(message)
        self.inner.info(message)
