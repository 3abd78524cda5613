"""Losses as a package with a registry: classification, segmentation (contrastive and domain losses join
as files of their own). Importing the package registers every loss."""

from faultcli.losses import classification, segmentation  # noqa: F401  (registration)
from faultcli.losses.classification import FocalLoss, class_balanced_alpha, smooth_targets
from faultcli.losses.registry import create_loss, loss_names
from faultcli.losses.segmentation import BCEDiceLoss, dice_loss

__all__ = [
    "BCEDiceLoss",
    "FocalLoss",
    "class_balanced_alpha",
    "create_loss",
    "dice_loss",
    "loss_names",
    "smooth_targets",
]
