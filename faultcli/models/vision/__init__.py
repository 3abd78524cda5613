"""Image models on timm backbones; importing this package registers them ("model", "fusion")."""

from faultcli.models.vision.backbones import create_backbone, load_backbone_weights
from faultcli.models.vision.classifier import ImageClassifier, image_classifier
from faultcli.models.vision.edge import EdgeConcatFusion, EdgeEncoder, EdgeGateFusion

__all__ = [
    "EdgeConcatFusion",
    "EdgeEncoder",
    "EdgeGateFusion",
    "ImageClassifier",
    "create_backbone",
    "image_classifier",
    "load_backbone_weights",
]
