"""Fusions of branch features; importing this package registers them under kind "fusion"."""

from faultcli.models.fusion.hierarchical import HierarchicalFusion
from faultcli.models.fusion.simple import ConcatFusion, ModalityGate, WeightedFusion

__all__ = ["ConcatFusion", "HierarchicalFusion", "ModalityGate", "WeightedFusion"]
