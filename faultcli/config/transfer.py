"""Recipe sections of transfer learning: ``[pretrain]`` (read by ``faultcli pretrain``) and ``[adapt]``
(domain adaptation inside ``faultcli finetune``), both over vibration recipes."""

from __future__ import annotations

from dataclasses import dataclass

from faultcli.config.fields import opt


@dataclass
class PretrainConfig:
    method: str = opt("ntxent", "self-supervised or contrastive objective", choices=("ntxent", "supcon", "masked"))
    temperature: float = opt(0.1, "softmax temperature of NT-Xent / SupCon", min=1e-3, max=10.0)
    projection_dim: int = opt(128, "width of the projection head the contrastive loss sees", min=8)


@dataclass
class AdaptConfig:
    method: str = opt(
        "none", "domain adaptation to unlabelled target windows", choices=("none", "adabn", "mmd", "coral", "dann")
    )
    weight: float = opt(1.0, "weight of the alignment loss at the end of its ramp", min=0.0)
    target_root: str = opt("", "folder of unlabelled target recordings; empty = data.test_conditions of the data")
    source_rate: int = opt(
        0, "sampling rate (Hz) of target recordings that say nothing else; 0 = data.source_rate", min=0
    )
