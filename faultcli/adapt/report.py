"""What a run with ``[adapt]`` reports beside the test figures of the epoch chosen on source validation:
the target it adapted to, and the test figures of the last epoch (source validation may choose badly
for the target; both are shown, neither is chosen by the test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faultcli.config import Config
from faultcli.progress import Reporter


def adapt_summary(
    task: Any,
    cfg: Config,
    model: Any,
    data: Any,
    out: Path,
    device: Any,
    reporter: Reporter,
    history: list[dict],
    best_epoch: int,
    test: dict[str, Any],
) -> dict[str, Any]:
    """{} without adaptation; else the target, the chosen and last epochs, and the last epoch's test
    figures (evaluated into ``out/test-last-epoch`` when it is not the chosen one)."""
    if cfg.adapt.method == "none" or getattr(data, "target", None) is None:
        return {}
    from faultcli.engine.checkpoints import load_checkpoint

    last = len(history)
    if best_epoch + 1 != last:
        model.load_state_dict(load_checkpoint(out / "checkpoints" / "last.pt")["model"])
        fitted = task.post_fit(cfg, model, data, device, reporter)
        title = f"Evaluation on the test split, last epoch ({last}) of {cfg.name or out.name}"
        test = task.evaluate(cfg, model, data, "test", out / "test-last-epoch", fitted, device, reporter, title)
    reporter.info(
        f"test accuracy: {test['accuracy']:.4f} at the last epoch ({last}); the chosen epoch is {best_epoch + 1}"
    )
    return {
        "adapt_method": cfg.adapt.method,
        "adapt_target": data.target.where,
        "adapt_target_windows": len(data.target.rows),
        "chosen_epoch": best_epoch + 1,
        "last_epoch": last,
        "last_test_accuracy": test["accuracy"],
        "last_test_macro_f1": test["macro_f1"],
    }
