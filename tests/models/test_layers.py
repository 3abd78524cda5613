"""Shapes and basic behaviour of the reusable blocks."""

import pytest
import torch

from faultcli.models.layers import (
    BranchDropout,
    CBAM1d,
    EMA2d,
    MixedPool1d,
    MultiScaleBlock1d,
    ResidualBlock1d,
    SE1d,
    TemporalSelfAttention,
    WindowStandardize,
    fuse_conv_bn,
)


def test_channel_and_spatial_attention_keep_shape():
    x = torch.randn(3, 16, 40)
    assert SE1d(16)(x).shape == x.shape
    assert CBAM1d(16)(x).shape == x.shape


def test_se_only_rescales_channels():
    x = torch.randn(2, 8, 30)
    ratio = SE1d(8)(x) / x  # one gate in (0, 1) per (sample, channel), the same at every step
    assert torch.allclose(ratio, ratio[..., :1].expand_as(ratio), atol=1e-5)
    assert ((ratio > 0) & (ratio < 1)).all()


def _ema_reference(ema, x):
    """EMA as the paper's code writes it: groups folded into the batch, one small conv for all."""
    b, c, h, w = x.shape
    g = x.reshape(b * ema.groups, -1, h, w)
    hw = ema.conv1x1(torch.cat([g.mean(3, keepdim=True), g.mean(2, keepdim=True).permute(0, 1, 3, 2)], dim=2))
    x_h, x_w = torch.split(hw, [h, w], dim=2)
    x1 = ema.norm(g * x_h.sigmoid() * x_w.permute(0, 1, 3, 2).sigmoid())
    x2 = ema.conv3x3(g)
    x11 = torch.softmax(x1.mean((2, 3)).unsqueeze(1), dim=-1)
    x21 = torch.softmax(x2.mean((2, 3)).unsqueeze(1), dim=-1)
    weights = x11 @ x2.flatten(2) + x21 @ x1.flatten(2)
    return (g * weights.reshape(-1, 1, h, w).sigmoid()).reshape(b, c, h, w)


def test_ema_matches_the_reference_formulation():
    torch.manual_seed(0)
    ema = EMA2d(32, groups=4)
    with torch.no_grad():
        for p in ema.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x = torch.randn(3, 32, 7, 11)
    assert torch.allclose(ema(x), _ema_reference(ema, x), atol=1e-5)


def test_ema_keeps_shape_and_rejects_bad_groups():
    x = torch.randn(2, 16, 12, 20)
    assert EMA2d(16, groups=8)(x).shape == x.shape
    with pytest.raises(ValueError):
        EMA2d(12, groups=8)


def test_temporal_attention_and_pooling_shapes():
    x = torch.randn(2, 25, 32)
    assert TemporalSelfAttention(32, heads=4)(x).shape == x.shape
    pool = MixedPool1d(32)
    assert pool(x).shape == (2, pool.out_features) == (2, 96)


def test_pooling_parts_are_max_and_mean():
    x = torch.randn(2, 10, 4)
    out = MixedPool1d(4)(x)
    assert torch.allclose(out[:, :4], x.amax(dim=1))
    assert torch.allclose(out[:, 4:8], x.mean(dim=1))


def test_multiscale_block_maps_channels_and_keeps_length():
    assert MultiScaleBlock1d(8, 24)(torch.randn(2, 8, 64)).shape == (2, 24, 64)
    assert len(MultiScaleBlock1d(8, 8).paths) == 3


@pytest.mark.parametrize(("stride", "length"), [(1, 64), (2, 32)])
def test_residual_block_strides(stride, length):
    assert ResidualBlock1d(8, 16, stride=stride)(torch.randn(2, 8, 64)).shape == (2, 16, length)


def test_window_standardize_removes_offset_and_scale():
    x = torch.randn(3, 1, 256)
    norm = WindowStandardize()
    y = norm(x)
    torch.testing.assert_close(y.mean(-1), torch.zeros(3, 1), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.std(-1, unbiased=False), torch.ones(3, 1), atol=1e-4, rtol=0)
    # a window at five times the amplitude (a heavier load) reads the same
    torch.testing.assert_close(norm(5 * x + 2), y, atol=1e-4, rtol=0)
    assert torch.isfinite(norm(torch.zeros(1, 1, 64))).all()  # a silent window stays finite


@pytest.mark.parametrize("name", ["wdcnn", "multimodal_small"])
def test_models_with_window_norm_ignore_amplitude(name):
    from faultcli.services.common import build_model

    torch.manual_seed(0)
    net = build_model(name, {"num_classes": 4, "window": 1024, "sample_rate": 12000, "window_norm": True}).eval()
    x = torch.randn(2, 1, 1024)
    with torch.no_grad():
        torch.testing.assert_close(net(3 * x), net(x), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", ["wdcnn", "multimodal_small"])
def test_fuse_conv_bn_folds_batchnorms_and_keeps_outputs(name):
    from faultcli.services.common import build_model

    torch.manual_seed(0)
    net = build_model(name, {"num_classes": 4, "window": 1024, "sample_rate": 12000})
    with torch.no_grad():  # a few training passes give the BatchNorms running statistics far from (0, 1)
        for _ in range(3):
            net(5 * torch.randn(16, 1, 1024) + 1)
    net.eval()
    fused = fuse_conv_bn(net)

    def batchnorms(m):
        return sum(isinstance(b, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)) for b in m.modules())

    assert batchnorms(fused) < batchnorms(net) / 2  # most are folded (head and input norms follow no conv)
    assert net.training is False and batchnorms(net) > 0  # the original is untouched
    x = torch.randn(4, 1, 1024)
    with torch.no_grad():
        torch.testing.assert_close(fused(x), net(x), atol=1e-4, rtol=1e-4)


def test_branch_dropout_zeroes_whole_branches_and_keeps_one():
    torch.manual_seed(0)
    feats = [torch.randn(500, 8) + 5 for _ in range(3)]  # never zero by chance
    drop = BranchDropout(0.6).train()
    out = drop(feats)
    kept = torch.stack([(f != 0).all(dim=1) for f in out], dim=1)  # (B, 3): branch kept whole
    dropped = torch.stack([(f == 0).all(dim=1) for f in out], dim=1)
    assert (kept | dropped).all()  # a branch is kept or zeroed as a whole, never in part
    assert kept.any(dim=1).all()  # every sample keeps at least one branch
    assert 0.3 < dropped.float().mean() < 0.7
    for f, o, k in zip(feats, out, kept.T, strict=True):
        assert torch.equal(o[k], f[k])  # kept features pass unchanged (no rescaling)
    assert all(o is f for o, f in zip(drop.eval()(feats), feats, strict=True))  # identity at inference


def test_branch_dropout_rejects_bad_probability():
    with pytest.raises(ValueError, match="branch dropout"):
        BranchDropout(1.0)
