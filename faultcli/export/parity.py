"""Parity of an export with its checkpoint, on real samples of the run's own dataset.

The samples are the test split (topped up from validation, then training, to at least 512 windows or
64 images), prepared exactly as evaluation prepares them, with the checkpoint's normalisation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np

from faultcli.export.preprocess import chunks
from faultcli.progress import Reporter

MIN_WINDOWS, MIN_IMAGES = 512, 64
MAX_DIFF = 1e-4  # largest allowed |p_export - p_pytorch| of any class probability (fp32)
INT8_MAX_DROP = 0.01  # int8: largest allowed drop in top-1 accuracy on the same samples


class Runner(Protocol):
    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...


def _pick_rows(dataset: Any, minimum: int, order: tuple[str, ...]) -> tuple[np.ndarray, str]:
    """All rows of the first split in ``order``, topped up from the next ones to ``minimum``; and their splits."""
    rows, used = [], []
    for split in order:
        part = np.asarray(dataset.indices(split))
        if not part.size:
            continue
        need = minimum - sum(len(r) for r in rows)
        rows.append(part if not rows else part[:need])
        used.append(split)
        if sum(len(r) for r in rows) >= minimum:
            break
    return np.concatenate(rows), "+".join(used)


class Samples:
    """Batches of model inputs (and labels) drawn from the checkpoint's prepared dataset."""

    def __init__(
        self,
        state: dict[str, Any],
        cfg: Any,
        sidecar: dict[str, Any],
        reporter: Reporter,
        order: tuple[str, ...] = ("test", "val", "train"),
        limit: int | None = None,
    ) -> None:
        self.prep, self.task = sidecar["preprocessing"], sidecar["task"]
        if self.prep["kind"] == "vibration":
            from faultcli.data.vibration import prepare_vibration

            self.dataset = prepare_vibration(cfg.data, reporter, evaluating=False)
            self.rows, self.splits = _pick_rows(self.dataset, MIN_WINDOWS, order)
        else:
            from faultcli.data.images import prepare_images

            self.dataset = prepare_images(cfg.data, self.task, reporter)
            self.rows, self.splits = _pick_rows(self.dataset, MIN_IMAGES, order)
            if self.prep.get("edges") and self.dataset.edges is None:
                from faultcli.errors import DataError

                raise DataError("the model has an edge branch but the dataset has no edge maps; set data.edges = true")
        if limit is not None:  # spread over the rows, not the first recording's windows only
            self.rows = self.rows[np.linspace(0, len(self.rows) - 1, min(limit, len(self.rows))).astype(int)]

    def __len__(self) -> int:
        return len(self.rows)

    def labels(self) -> np.ndarray | None:
        if self.task == "segmentation":
            return None
        return np.asarray(self.dataset.labels_for(self.rows))

    def batches(self, size: int = 256) -> Iterator[dict[str, np.ndarray]]:
        for part in chunks(len(self.rows), size):
            rows = self.rows[part]
            if self.prep["kind"] == "vibration":
                x = (self.dataset.signals_for(rows) - self.prep["norm_mean"]) / self.prep["norm_std"]
                batch = {"x": np.ascontiguousarray(x[:, None, :], dtype=np.float32)}
                if self.prep.get("uses_rpm"):
                    batch["rpm"] = np.asarray(self.dataset.rpm_for(rows), dtype=np.float32)
            else:
                images = self.dataset.images[rows].astype(np.float32) / 255.0
                mean, std = np.asarray(self.prep["norm_mean"]), np.maximum(np.asarray(self.prep["norm_std"]), 1e-6)
                batch = {"x": np.ascontiguousarray(((images - mean) / std).transpose(0, 3, 1, 2), dtype=np.float32)}
                if self.prep.get("edges"):
                    edges = self.dataset.edges[rows][:, None].astype(np.float32) / 255.0
                    batch["edge"] = np.ascontiguousarray(edges)
            yield batch


def compare(reference: Runner, exported: Runner, samples: Samples, reporter: Reporter) -> dict[str, Any]:
    """Max |Δp|, top-1 agreement (per pixel and class for segmenters) and, with labels, both accuracies."""
    max_diff, agree, total, ties, ref_top, exp_top = 0.0, 0, 0, 0, [], []
    with reporter.task("parity", total=len(samples)) as task:
        for batch in samples.batches():
            p_ref = reference.run(batch)["probs"]
            p_exp = exported.run(batch)["probs"]
            max_diff = max(max_diff, float(np.abs(p_ref - p_exp).max()))
            if samples.task == "segmentation":
                # a pixel within the difference bound of 0.5 is a numerical tie: either side is right
                tied = np.abs(p_ref - 0.5) <= MAX_DIFF
                same = ((p_ref > 0.5) == (p_exp > 0.5)) | tied
                agree, total, ties = agree + int(same.sum()), total + same.size, ties + int(tied.sum())
            else:
                ref_top.append(p_ref.argmax(1))
                exp_top.append(p_exp.argmax(1))
                agree, total = agree + int((ref_top[-1] == exp_top[-1]).sum()), total + len(p_ref)
            task.advance(len(batch["x"]))
    out: dict[str, Any] = {
        "samples": len(samples),
        "splits": samples.splits,
        "max_abs_diff": max_diff,
        "top1_agreement": agree / max(total, 1),
        "compared": "pixel masks at 0.5" if samples.task == "segmentation" else "top-1 class",
    }
    if samples.task == "segmentation":
        out["pixels_within_bound_of_0.5"] = ties
    labels = samples.labels()
    if labels is not None and ref_top:
        out["accuracy_pytorch"] = float((np.concatenate(ref_top) == labels).mean())
        out["accuracy_export"] = float((np.concatenate(exp_top) == labels).mean())
    return out


def verdict(parity: dict[str, Any], int8: bool) -> str | None:
    """None when the export passes, else the one-line reason it fails."""
    if int8:
        drop = parity.get("accuracy_pytorch", 0.0) - parity.get("accuracy_export", 0.0)
        parity["bound"] = f"int8: top-1 accuracy drop <= {INT8_MAX_DROP:.0%} on the same samples"
        if drop > INT8_MAX_DROP:
            return f"int8 accuracy drops by {drop:.2%} (> {INT8_MAX_DROP:.0%}); export without --quantize"
        return None
    parity["bound"] = f"top-1 agreement = 100 % and max |dp| <= {MAX_DIFF:g}"
    if parity["top1_agreement"] < 1.0:
        return f"top-1 agreement {parity['top1_agreement']:.4%} < 100 %"
    if parity["max_abs_diff"] > MAX_DIFF:
        return f"max probability difference {parity['max_abs_diff']:.2e} > {MAX_DIFF:g}"
    return None
