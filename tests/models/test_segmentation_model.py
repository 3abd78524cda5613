"""smp_segmenter: any input size, name checks with close matches, local encoder weights, offline pretrained."""

from __future__ import annotations

import pytest
import torch

from faultcli.errors import ConfigError
from faultcli.models.vision import segmentation as seg
from faultcli.models.vision.segmentation import Segmenter, smp_segmenter
from faultcli.registry import lookup

TINY = "tu-mobilenetv3_small_050"  # timm's smallest mobile net: fast to build and run


def test_registered_under_model_kind():
    assert lookup("model", "smp_segmenter") is smp_segmenter


@pytest.mark.parametrize("arch", ["Unet", "FPN", "PAN"])
def test_logits_have_the_input_size_whatever_it_is(arch):
    torch.manual_seed(0)
    model = smp_segmenter(arch=arch, encoder=TINY, num_classes=3, in_channels=1).eval()
    assert isinstance(model, Segmenter)
    with torch.no_grad():
        # 50 × 70 is neither a multiple of 32 nor, for PAN, the 128 px it needs
        out = model(torch.randn(2, 1, 50, 70))
    assert out.shape == (2, 3, 50, 70)
    assert model.padded_size(50, 70) == ((128, 128) if arch == "PAN" else (64, 96))


def test_padding_does_not_change_what_the_network_sees_inside():
    """An input already of a padded size goes straight through the smp model."""
    model = smp_segmenter(arch="Unet", encoder=TINY, num_classes=1, in_channels=3).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x), model.net(x))


def test_unknown_encoder_lists_close_names():
    with pytest.raises(ConfigError, match=r"segmentation.encoder = 'efficientnet-b33'.*efficientnet-b3"):
        smp_segmenter(encoder="efficientnet-b33")


def test_unknown_timm_encoder_is_a_config_error():
    with pytest.raises(ConfigError, match="not a timm model"):
        smp_segmenter(encoder="tu-resnet18x")


def test_unknown_arch_lists_the_architectures():
    with pytest.raises(ConfigError, match=r"'Unett'.*did you mean Unet.*DeepLabV3Plus"):
        smp_segmenter(arch="Unett")


def test_pretrained_offline_is_a_one_line_config_error(monkeypatch):
    monkeypatch.setattr(seg, "_online", lambda *a, **k: False)
    with pytest.raises(ConfigError, match="model.weights_path") as err:
        smp_segmenter(arch="Unet", encoder="resnet18", pretrained=True)
    assert "\n" not in str(err.value)


def test_local_weights_file_loads_into_the_encoder(tmp_path):
    torch.manual_seed(1)
    source = smp_segmenter(arch="Unet", encoder="resnet18", num_classes=2, in_channels=3)
    path = tmp_path / "encoder.pt"
    torch.save(source.encoder.state_dict(), path)
    torch.manual_seed(2)
    model = smp_segmenter(arch="FPN", encoder="resnet18", num_classes=1, in_channels=3, weights_path=str(path))
    for key, value in source.encoder.state_dict().items():
        assert torch.equal(model.encoder.state_dict()[key], value), key


def test_whole_model_state_dict_and_gray_input_are_accepted(tmp_path):
    """A saved Segmenter (keys net.encoder.*) with RGB weights feeds a gray model: first conv summed."""
    source = smp_segmenter(arch="Unet", encoder="resnet18", num_classes=2, in_channels=3)
    path = tmp_path / "model.pt"
    torch.save(source.state_dict(), path)
    model = smp_segmenter(arch="Unet", encoder="resnet18", num_classes=2, in_channels=1, weights_path=str(path))
    rgb = source.encoder.state_dict()["conv1.weight"]
    assert torch.allclose(model.encoder.state_dict()["conv1.weight"], rgb.sum(dim=1, keepdim=True))


def test_weights_of_another_encoder_are_refused(tmp_path):
    path = tmp_path / "other.pt"
    torch.save(smp_segmenter(arch="Unet", encoder=TINY).encoder.state_dict(), path)
    with pytest.raises(ConfigError, match=r"does not fit this encoder \(missing"):
        smp_segmenter(arch="Unet", encoder="resnet18", weights_path=str(path))


def test_weights_file_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "pickled.pt"
    torch.save({"conv1.weight": torch.zeros(1), "extra": object()}, path)
    with pytest.raises(ConfigError, match="cannot be loaded as plain tensors"):
        smp_segmenter(arch="Unet", encoder="resnet18", weights_path=str(path))


def test_missing_weights_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        smp_segmenter(arch="Unet", encoder="resnet18", weights_path=str(tmp_path / "nope.pt"))


def test_batchnorm_momentum_is_torch_default_unless_kept():
    """smp's EfficientNet ships TF's 0.01; short CPU runs need running stats that settle within an epoch."""
    bns = lambda m: [b for b in m.modules() if isinstance(b, torch.nn.BatchNorm2d)]  # noqa: E731
    assert {b.momentum for b in bns(smp_segmenter(arch="Unet", encoder="efficientnet-b0"))} == {0.1}
    kept = {b.momentum for b in bns(smp_segmenter(arch="Unet", encoder="efficientnet-b0", bn_momentum=0))}
    assert any(abs(m - 0.01) < 1e-9 for m in kept)
