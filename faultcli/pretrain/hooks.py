"""Pretraining as the engine sees it: a batch of pool windows becomes a contrastive or reconstruction loss;
the projection head or decoder is a part the engine optimises, averages, saves and resumes; validation is
the k-NN probe on the epochs it is due."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from faultcli.engine.hooks import StepContext, TaskHooks
from faultcli.pretrain.init import is_head_key
from faultcli.pretrain.objectives import Views, contrastive_loss, masked_loss, projected_views
from faultcli.pretrain.pool import UNLABELLED
from faultcli.pretrain.probe import encode, probe_figures


class PretrainHooks(TaskHooks):
    """``method``: ntxent (two views, no labels), supcon (two views and the train split's labels) or masked
    (reconstruct hidden spans). ``head`` is the projection head (ntxent, supcon) or the decoder (masked)."""

    train_metrics = {"loss": "min"}
    val_metrics = {"knn_acc": "max"}

    def __init__(
        self,
        method: str,
        head: nn.Module,
        *,
        augment: Views,
        temperature: float = 0.1,
        mask_ratio: float = 0.3,
        mask_span: int = 32,
        probe_epochs: set[int] | None = None,
        probe_k: int = 10,
        seed: int = 0,
    ) -> None:
        self.method, self.head, self.augment = method, head, augment
        self.temperature, self.mask_ratio, self.mask_span = temperature, mask_ratio, mask_span
        self.probe_epochs, self.probe_k, self.seed = probe_epochs or set(), probe_k, seed
        self.generator = torch.Generator()
        self.probing = False

    def parts(self) -> dict[str, nn.Module]:
        return {"decoder" if self.method == "masked" else "projection": self.head}

    def on_epoch_start(self, engine: Any, epoch: int) -> None:
        self.generator.manual_seed(self.seed * 7919 + epoch)
        self.probing = epoch in self.probe_epochs
        # the classifier read-outs play no part in pretraining (they never had a gradient): frozen, so that
        # under torchrun no process waits for their gradients
        for name, param in engine.model.named_parameters():
            if is_head_key(name):
                param.requires_grad_(False)

    def probe_due(self) -> bool:
        return self.probing

    def training_step(self, model: nn.Module, batch: dict[str, Any], ctx: StepContext) -> tuple[torch.Tensor, dict]:
        # self.head is the module the engine holds among its parts: optimised and averaged with the model
        if self.method == "masked":
            return masked_loss(model, self.head, batch, self.mask_ratio, self.mask_span, self.generator), {}
        z = projected_views(model, self.head, batch, self.augment, ctx.epoch, self.generator)
        labels = batch["y"] if self.method == "supcon" else None
        if labels is not None and bool((labels == UNLABELLED).any()):
            raise ValueError("supcon needs a label for every window")  # refused before training (task.check)
        return contrastive_loss(z, labels, self.temperature), {}

    def validation_step(self, model: nn.Module, batch: dict[str, Any], name: str = "") -> dict[str, torch.Tensor]:
        return {"feats": encode(model, batch), "y": batch["y"], "bank": batch["bank"]}

    def validation_metrics(self, collected: dict[str, torch.Tensor], name: str = "") -> dict[str, float]:
        return probe_figures(collected, self.probe_k)
