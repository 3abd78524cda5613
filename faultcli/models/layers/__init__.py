"""Reusable blocks of the vibration models."""

from faultcli.models.layers.attention import CBAM1d, EMA2d, SE1d, TemporalSelfAttention
from faultcli.models.layers.branch_dropout import BranchDropout
from faultcli.models.layers.fuse import fuse_conv_bn
from faultcli.models.layers.msfeb import MultiScaleBlock1d, conv_bn_relu
from faultcli.models.layers.normalize import WindowStandardize
from faultcli.models.layers.pooling import MixedPool1d
from faultcli.models.layers.residual import ResidualBlock1d

__all__ = [
    "BranchDropout",
    "CBAM1d",
    "EMA2d",
    "MixedPool1d",
    "MultiScaleBlock1d",
    "ResidualBlock1d",
    "SE1d",
    "TemporalSelfAttention",
    "WindowStandardize",
    "conv_bn_relu",
    "fuse_conv_bn",
]
