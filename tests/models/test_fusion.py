"""Fusions of 1 to 4 branch features."""

import pytest
import torch

import faultcli.models  # noqa: F401  (registers the fusions)
from faultcli.errors import ConfigError
from faultcli.registry import create, lookup


@pytest.mark.parametrize("name", ["hierarchical", "weighted", "concat"])
@pytest.mark.parametrize("n_branches", [1, 2, 3, 4])
def test_fusion_shapes_and_weights(name, n_branches):
    fusion = create("fusion", name, n_branches=n_branches, in_dim=32, out_dim=16).eval()
    feats = [torch.randn(5, 32) for _ in range(n_branches)]
    fused, weights = fusion(feats)
    assert fused.shape == (5, 16) and fusion.out_features == 16
    if name == "concat":
        assert weights is None
    else:
        assert weights.shape == (5, n_branches)
        assert torch.allclose(weights.sum(dim=1), torch.ones(5), atol=1e-5)
        assert (weights >= 0).all()


def test_gate_weights_decide_the_weighted_sum():
    fusion = create("fusion", "weighted", n_branches=2, in_dim=4, out_dim=4).eval()
    feats = [torch.randn(3, 4), torch.randn(3, 4)]
    _, weights = fusion(feats)
    expected = fusion.proj(weights[:, :1] * feats[0] + weights[:, 1:] * feats[1])
    assert torch.allclose(fusion(feats)[0], expected, atol=1e-6)


def test_unknown_fusion_is_a_config_error():
    with pytest.raises(ConfigError, match="hierarchical"):
        lookup("fusion", "hierachical")
