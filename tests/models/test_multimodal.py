"""The multimodal model: sizes, surface, branch subsets, fusions, speed normalisation, and learning."""

import math

import pytest
import torch

from faultcli.errors import ConfigError, DataError
from faultcli.models import available_models, create_model

WINDOW = 1024


def _params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("name", "target"), [("multimodal_small", 0.8e6), ("multimodal_medium", 2.5e6), ("multimodal_large", 8e6)]
)
def test_sizes_hit_their_parameter_budget(name, target):
    model = create_model(name, num_classes=10, window=WINDOW, branches=["time", "fft", "tf"], fusion="hierarchical")
    assert 0.85 * target <= _params(model) <= 1.15 * target


def test_registered_names():
    assert {"multimodal_small", "multimodal_medium", "multimodal_large", "wdcnn"} <= set(available_models())


def test_surface_and_modality_weights():
    model = create_model("multimodal_small", num_classes=5, window=WINDOW).eval()
    assert model.modality_weights is None
    x = torch.randn(4, 1, WINDOW)
    with torch.no_grad():
        feats = model.forward_features(x)
        logits = model(x)
    assert feats.shape == (4, model.num_features) == (4, 128)
    assert logits.shape == model.forward_head(feats).shape == (4, 5)
    weights = model.modality_weights
    assert weights.shape == (4, 3) and not weights.requires_grad
    assert torch.allclose(weights.sum(dim=1), torch.ones(4), atol=1e-5)
    assert model.branch_names == ["time", "fft", "tf"]
    assert model.arcface(feats, torch.arange(4)).shape == (4, 5)


@pytest.mark.parametrize("fusion", ["hierarchical", "weighted", "concat"])
@pytest.mark.parametrize(
    "branches", [["time"], ["fft", "tf"], ["envelope", "fft", "tf"], ["time", "fft", "tf", "envelope"], ["bands"]]
)
def test_branch_subsets_with_every_fusion(branches, fusion):
    model = create_model(
        "multimodal_small",
        num_classes=3,
        window=WINDOW,
        branches=branches,
        fusion=fusion,
        time_width=8,
        gru_hidden=8,
        spectrum_width=8,
        tf_width=8,
        branch_dim=32,
    ).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 1, WINDOW)).shape == (2, 3)
    if fusion == "concat":
        assert model.modality_weights is None
    else:
        assert model.modality_weights.shape == (2, len(branches))


def test_branch_dropout_acts_in_training_only():
    tiny = dict(time_width=8, gru_hidden=8, spectrum_width=8, tf_width=8, branch_dim=32)
    model = create_model("multimodal_small", num_classes=3, window=WINDOW, branch_dropout=0.5, **tiny)
    x = torch.randn(64, 1, WINDOW)
    with torch.no_grad():
        model.train()
        for part in [*model.branches.values(), model.fusion]:  # only the branch dropout stays random below
            part.eval()
        trained = [model.forward_features(x) for _ in range(2)]
        model.eval()
        inferred = [model.forward_features(x) for _ in range(2)]
    assert not torch.allclose(trained[0], trained[1])  # other branches dropped on each pass
    assert torch.equal(inferred[0], inferred[1])  # inference sees every branch, every time


def test_order_normalized_model_with_and_without_rpm():
    model = create_model(
        "multimodal_small",
        num_classes=3,
        window=WINDOW,
        branches=["fft", "envelope"],
        order_normalize=True,
        spectrum_width=8,
    ).eval()
    x = torch.randn(2, 1, WINDOW)
    with torch.no_grad():
        without = model(x)
        nominal = model(x, rpm=torch.tensor([1797.0, 1797.0]))
        slower = model(x, rpm=torch.tensor([1730.0, 1500.0]))
    assert torch.allclose(without, nominal, atol=1e-5)
    assert not torch.allclose(slower, nominal)


def test_bad_names_and_shapes_fail_clearly():
    with pytest.raises(ConfigError, match="multimodal_small"):
        create_model("multimodal_smal")
    with pytest.raises(ConfigError, match="branch"):
        create_model("multimodal_small", branches=["time", "wavelet"])
    with pytest.raises(ConfigError, match="fusion"):
        create_model("multimodal_small", fusion="attention")
    with pytest.raises(ConfigError, match="branches"):
        create_model("multimodal_small", branches=[])
    with pytest.raises(DataError, match="data.window"):
        create_model("multimodal_small", window=WINDOW, branches=["fft"])(torch.randn(2, 1, 512))
    with pytest.raises(ConfigError, match="vibration.wide_bands = 1024 needs data.window >= 2048"):
        create_model("multimodal_small", window=WINDOW, wide_bands=1024)


def _two_tone_batch(n=16, rate=12000):
    """Half the windows carry a 600 Hz tone, half a 2400 Hz tone, each with noise and a random phase."""
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % 2
    t = torch.arange(WINDOW) / rate
    freq = torch.where(labels == 0, 600.0, 2400.0)[:, None]
    phase = 2 * math.pi * torch.rand(n, 1, generator=gen)
    x = torch.sin(2 * math.pi * freq * t + phase) + 0.5 * torch.randn(n, WINDOW, generator=gen)
    return ((x - x.mean()) / x.std()).unsqueeze(1), labels


@pytest.fixture
def one_thread():
    """One torch thread: on a busy shared CPU, two threads spin against other processes and crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("name", ["multimodal_small", "wdcnn"])
def test_tiny_overfit(name, one_thread):
    torch.manual_seed(0)
    model = create_model(name, num_classes=2, window=WINDOW)
    x, y = _two_tone_batch()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(20):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


def _wide_model(wide_clean=False):
    torch.manual_seed(0)
    return create_model(
        "multimodal_small",
        num_classes=2,
        window=WINDOW,
        branches=["fft"],
        spectrum_width=8,
        wide_bands=32,
        wide_clean=wide_clean,
    )


def _train_wide(model, augment=None, steps=20):
    """Train through the classification hook; the wide read-out's loss on the clean batch, first and last."""
    from faultcli.classification.hooks import ClassificationHooks
    from faultcli.engine.hooks import StepContext

    x, y = _two_tone_batch()
    model.train()
    hooks = ClassificationHooks(torch.nn.CrossEntropyLoss(), 2, arcface_weight=[[0, 0.3]], augment=augment)
    hooks.on_epoch_start(None, 0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    wide_losses = []
    for _ in range(steps):
        loss, _ = hooks.training_step(model, {"x": x, "y": y}, StepContext(0, 0, 0, 1, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            wide = model.head_logits(model.forward_features(x))[1]
            wide_losses.append(torch.nn.functional.cross_entropy(wide, y).item())
    return wide_losses[0], wide_losses[-1]


def test_wide_read_out_averages_probabilities_and_trains_by_its_own_loss(one_thread):
    model = _wide_model().eval()
    assert model.num_features == model.fused_dim + 32 == 160 and model.clean_readouts == 0
    x, y = _two_tone_batch()
    with torch.no_grad():
        feats = model.forward_features(x)
        deep, wide = model.head_logits(feats)
        mean_probs = (deep.softmax(1) + wide.softmax(1)) / 2
        assert torch.allclose(model(x).exp(), mean_probs, atol=1e-5)
        assert torch.equal(model.margin_features(feats), feats[:, :128])
        assert model.arcface(model.margin_features(feats), y).shape == (len(y), 2)
    # the hook sums one loss per read-out: the wide (linear) one learns even while the deep one fits
    first, last = _train_wide(model)
    assert last < 0.5 * first


def test_clean_wide_read_out_learns_from_the_batch_before_augmentation(one_thread):
    def scramble(x, extra, epoch, generator):  # an "augmentation" that leaves nothing to learn
        return torch.randn(x.shape, generator=generator), extra

    first, last = _train_wide(_wide_model(wide_clean=True), augment=scramble)
    assert _wide_model(wide_clean=True).clean_readouts == 1
    assert last < 0.5 * first
    first, last = _train_wide(_wide_model(wide_clean=False), augment=scramble)
    assert last > 0.8 * first  # the same read-out fed the augmented batch learns nothing
