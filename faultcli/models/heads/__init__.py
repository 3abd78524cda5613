"""Classifier heads; importing this package registers them under kind "head"."""

from faultcli.models.heads.arcface import ArcFaceHead
from faultcli.models.heads.projection import ProjectionHead
from faultcli.models.heads.softmax import SoftmaxHead

__all__ = ["ArcFaceHead", "ProjectionHead", "SoftmaxHead"]
