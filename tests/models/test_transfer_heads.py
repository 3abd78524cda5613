"""Projection head and domain discriminator: shapes and registry names."""

import torch

from faultcli.models.heads import DomainDiscriminator, ProjectionHead
from faultcli.registry import available, create


def test_projection_head_maps_features_to_embeddings():
    head = ProjectionHead(32, out_features=16, hidden=64)
    assert head(torch.randn(6, 32)).shape == (6, 16)
    assert isinstance(head.net[1], torch.nn.BatchNorm1d) and head.net[0].bias is None


def test_discriminator_gives_one_logit_per_sample():
    disc = DomainDiscriminator(32, hidden=8, dropout=0.5).eval()
    logits = disc(torch.randn(6, 32))
    assert logits.shape == (6,)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.ones(6))
    assert torch.isfinite(loss)


def test_heads_are_registered_by_name():
    assert {"projection", "domain_discriminator"} <= set(available("head"))
    assert isinstance(create("head", "projection", in_features=8), ProjectionHead)
    assert create("head", "projection", in_features=8, out_features=4).eval()(torch.randn(2, 8)).shape == (2, 4)
    assert isinstance(create("head", "domain_discriminator", in_features=8, hidden=4), DomainDiscriminator)
