"""Classifier heads; importing this package registers them under kind "head" (models build theirs
through the registry)."""

from faultcli.models.heads.arcface import ArcFaceHead
from faultcli.models.heads.discriminator import DomainDiscriminator
from faultcli.models.heads.projection import ProjectionHead
from faultcli.models.heads.softmax import SoftmaxHead

__all__ = ["ArcFaceHead", "DomainDiscriminator", "ProjectionHead", "SoftmaxHead"]
