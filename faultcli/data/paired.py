"""A labelled source loader beside an unlabelled target loader, for domain adaptation: each batch is
``{"source": batch, "target": batch}``. One epoch is one pass over the source; the target restarts
whenever it runs out. Both shuffle from torch's generator, which the engine re-seeds every epoch, so a
resumed run pairs the same batches as an uninterrupted one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sized
from typing import Any

from faultcli.errors import DataError


class PairedLoader:
    def __init__(self, source: Iterable[Any], target: Iterable[Any]) -> None:
        if isinstance(target, Sized) and len(target) == 0:
            raise DataError("the target data hold no batch; give more target recordings or a smaller batch size")
        self.source, self.target = source, target

    def __len__(self) -> int:
        return len(self.source)  # type: ignore[arg-type]

    def apply(self, wrap: Callable[[Any], Any]) -> PairedLoader:
        """The same pairing over wrapped loaders (each process's share of both under torchrun)."""
        return PairedLoader(wrap(self.source), wrap(self.target))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        target = iter(self.target)
        for batch in self.source:
            try:
                paired = next(target)
            except StopIteration:
                target = iter(self.target)
                paired = next(target)
            yield {"source": batch, "target": paired}
