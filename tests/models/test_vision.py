"""Image classifier: timm backbones by name, local weights, offline pretrained, edge branch and gate shapes."""

from __future__ import annotations

import pytest
import timm
import torch

from faultcli.errors import ConfigError, DataError
from faultcli.models.vision import (
    EdgeConcatFusion,
    EdgeEncoder,
    EdgeGateFusion,
    create_backbone,
    image_classifier,
)
from faultcli.registry import create

SMALL = "resnet10t"  # fast to build; same code path as any timm model


def test_gate_shapes_and_weights():
    gate = EdgeGateFusion(backbone_dim=512, edge_dim=64, out_dim=128)
    fused, weights = gate(torch.randn(5, 512), torch.randn(5, 64))
    assert fused.shape == (5, 128) and weights.shape == (5, 2)
    assert torch.allclose(weights.sum(dim=1), torch.ones(5))
    assert ((weights > 0) & (weights < 1)).all()


def test_concat_fusion_has_no_weights():
    fused, weights = EdgeConcatFusion(512, 64, 128)(torch.randn(3, 512), torch.randn(3, 64))
    assert fused.shape == (3, 128) and weights is None


def test_fusions_are_registered():
    assert isinstance(create("edge_fusion", "gate", backbone_dim=8, edge_dim=4, out_dim=6), EdgeGateFusion)
    assert isinstance(create("edge_fusion", "concat", backbone_dim=8, edge_dim=4, out_dim=6), EdgeConcatFusion)


@pytest.mark.parametrize("size", [(32, 32), (50, 70)])
def test_edge_encoder_any_image_size(size):
    assert EdgeEncoder(out_dim=48)(torch.rand(2, 1, *size)).shape == (2, 48)


def test_edge_encoder_sees_thin_lines():
    blank, lines = torch.zeros(1, 1, 32, 32), torch.zeros(1, 1, 32, 32)
    lines[..., 10, :] = 1.0  # one-pixel line, as Canny draws
    enc = EdgeEncoder(out_dim=16).eval()
    assert not torch.allclose(enc(blank), enc(lines))


def test_classifier_with_edge_gate_surface():
    model = image_classifier(num_classes=4, backbone=SMALL, in_chans=1, edge_branch=True, feature_dim=32)
    x, edge = torch.randn(3, 1, 40, 40), (torch.rand(3, 1, 40, 40) > 0.9).float()
    feats = model.forward_features(x, edge=edge)
    assert feats.shape == (3, model.num_features) and model.num_features == 32
    assert model.forward_head(feats).shape == (3, 4) and model(x, edge=edge).shape == (3, 4)
    assert model.modality_weights.shape == (3, 2) and not model.modality_weights.requires_grad
    assert model.arcface is None and model.backbone.num_features == 512


def test_classifier_plain_and_concat():
    plain = image_classifier(num_classes=2, backbone=SMALL, in_chans=3)
    assert plain(torch.randn(2, 3, 32, 32)).shape == (2, 2)
    assert plain.num_features == 512 and plain.modality_weights is None
    concat = image_classifier(num_classes=2, backbone=SMALL, in_chans=1, edge_branch=True, edge_fusion="concat")
    assert concat(torch.randn(2, 1, 32, 32), edge=torch.rand(2, 1, 32, 32)).shape == (2, 2)
    assert concat.modality_weights is None


def test_classifier_bad_input_says_what_to_do():
    model = image_classifier(num_classes=2, backbone=SMALL, in_chans=1, edge_branch=True)
    with pytest.raises(DataError, match="data.edges = true"):
        model(torch.randn(2, 1, 32, 32))
    with pytest.raises(DataError, match="data.color = gray"):
        model(torch.randn(2, 3, 32, 32), edge=torch.rand(2, 1, 32, 32))
    with pytest.raises(ConfigError, match="Available: concat, gate"):
        image_classifier(num_classes=2, backbone=SMALL, edge_branch=True, edge_fusion="sum")


def test_unknown_backbone_suggests_close_names():
    with pytest.raises(ConfigError, match="resnet18") as err:
        create_backbone("resnet181")
    assert "image.backbone" in str(err.value) and "\n" not in str(err.value)


def test_local_weights_file_is_loaded(tmp_path):
    source = timm.create_model(SMALL, pretrained=False, num_classes=0, in_chans=1)
    path = tmp_path / "weights.pth"
    torch.save(source.state_dict(), path)
    loaded = create_backbone(SMALL, in_chans=1, weights_path=str(path))
    fresh = create_backbone(SMALL, in_chans=1)
    for key, value in source.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert not torch.equal(fresh.conv1[0].weight, source.conv1[0].weight)  # not a coincidence of seeds


def test_local_weights_of_a_full_rgb_model_fit_a_gray_backbone(tmp_path):
    # ImageNet-style file: 3 input channels and a 1000-class head; the head is dropped, the stem adapted
    source = timm.create_model(SMALL, pretrained=False, num_classes=1000, in_chans=3)
    path = tmp_path / "full.safetensors"
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(path))
    loaded = create_backbone(SMALL, in_chans=1, weights_path=str(path))
    stem = "conv1.0.weight"
    expected = source.state_dict()[stem].sum(dim=1, keepdim=True)  # timm's adapt_input_conv for 1 channel
    assert torch.allclose(loaded.state_dict()[stem], expected)
    assert torch.equal(loaded.state_dict()["layer1.0.conv1.weight"], source.state_dict()["layer1.0.conv1.weight"])


def test_local_weights_under_a_checkpoint_key_and_through_the_classifier(tmp_path):
    source = timm.create_model(SMALL, pretrained=False, num_classes=0, in_chans=3)
    path = tmp_path / "ckpt.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}}, path)
    model = image_classifier(num_classes=3, backbone=SMALL, in_chans=3, pretrained=True, weights_path=str(path))
    assert torch.equal(model.backbone.state_dict()["conv1.0.weight"], source.state_dict()["conv1.0.weight"])


def test_weights_of_another_model_are_a_clear_error(tmp_path):
    path = tmp_path / "other.pth"
    torch.save(timm.create_model("resnet18", num_classes=0).state_dict(), path)
    with pytest.raises(ConfigError, match="does not fit backbone") as err:
        create_backbone(SMALL, weights_path=str(path))
    assert "model.weights_path" in str(err.value) and "\n" not in str(err.value)


def test_missing_or_unreadable_weights_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        create_backbone(SMALL, weights_path=str(tmp_path / "nope.pth"))
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="not a readable state dict"):
        create_backbone(SMALL, weights_path=str(junk))


def test_pretrained_offline_without_file_is_an_error_not_random_init(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match="model.weights_path") as err:
        image_classifier(num_classes=2, backbone=SMALL, pretrained=True)
    assert "offline" in str(err.value) and "\n" not in str(err.value)
