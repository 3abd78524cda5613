"""Recipe sections of transfer learning: ``[pretrain]`` (read by ``faultcli pretrain``) and ``[adapt]``
(domain adaptation inside ``faultcli finetune``), both over vibration recipes."""

from __future__ import annotations

from dataclasses import dataclass

from faultcli.config.fields import opt


@dataclass
class PretrainConfig:
    """``faultcli pretrain`` trains the recipe's model on its train windows with this objective; the loop
    (epochs, lr, batch size, schedule) is the recipe's [train] section."""

    method: str = opt("ntxent", "self-supervised or contrastive objective", choices=("ntxent", "supcon", "masked"))
    temperature: float = opt(0.1, "softmax temperature of NT-Xent / SupCon", min=1e-3, max=10.0)
    projection_dim: int = opt(128, "width of the projection head the contrastive loss sees", min=8)
    mask_ratio: float = opt(0.3, "masked: share of each window's samples hidden", min=0.01, max=0.9)
    mask_span: int = opt(32, "masked: samples per hidden span", min=1)
    probe_every: int = opt(
        5,
        "at the first epoch, every this many and the last, the k-NN accuracy of the features on the labelled val split "
        "against a bank of every labelled train window (the checkpoint with the best is kept, so those labels choose "
        "it); 0 = never, the last epoch is kept",
        min=0,
    )
    probe_k: int = opt(10, "neighbours of the k-NN probe (cosine similarity)", min=1)
    extra_roots: list[str] = opt(
        list,
        "folders of unlabelled recordings added to the pool, read, resampled and windowed like data.root "
        "(no label rule needed)",
        factory=True,
    )
    extra_include: list[str] = opt(
        list,
        "glob patterns (relative to each extra folder) of the files to add; empty = every readable file",
        factory=True,
    )
    extra_rate: int = opt(
        0,
        "sampling rate (Hz) of extra recordings that state none and match no data.rate_patterns entry; "
        "0 = data.source_rate; unknown is an error",
        min=0,
    )


@dataclass
class AdaptConfig:
    """Domain adaptation in ``faultcli finetune``: target labels are never read; the checkpoint is chosen on
    the source's validation split, and the last epoch's test figures are reported beside the chosen one's."""

    method: str = opt(
        "none", "domain adaptation to unlabelled target windows", choices=("none", "adabn", "mmd", "coral", "dann")
    )
    weight: float = opt(1.0, "weight of the alignment loss at the end of its ramp", min=0.0)
    target_root: str = opt(
        "",
        "folder of unlabelled target recordings, read like data.root without labels; empty = the recordings of "
        "data.test_conditions (data.split = by-condition)",
    )
    target_include: list[str] = opt(
        list, "glob patterns (relative to adapt.target_root) of the target files; empty = all readable", factory=True
    )
    source_rate: int = opt(
        0, "sampling rate (Hz) of target recordings that say nothing else; 0 = data.source_rate", min=0
    )
    target_channel: str = opt(
        "",
        "another sensor of the same recordings as the target (e.g. FE while data.channel = DE): its windows "
        "of the training split, unlabelled; empty = no such target",
    )
