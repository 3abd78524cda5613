"""The transfer pieces on a real faultcli model (WDCNN): start from another run's weights, adapt BatchNorm
to a shifted domain, and the gradients of contrastive and adversarial training."""

import torch
import torch.nn.functional as F

from faultcli.engine.checkpoints import save_checkpoint
from faultcli.losses.contrastive import nt_xent
from faultcli.losses.domain import coral, mmd
from faultcli.losses.reconstruction import mask_spans
from faultcli.models import create_model
from faultcli.models.adabn import adapt_batchnorm
from faultcli.models.heads import DomainDiscriminator, ProjectionHead
from faultcli.models.init_weights import load_matching, read_weights
from faultcli.models.layers.grad_reverse import GradientReversal, dann_weight

WINDOW = 1024


def wdcnn(classes: int = 4):
    torch.manual_seed(0)
    return create_model("wdcnn", num_classes=classes, window=WINDOW)


def windows(n: int, seed: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
    return shift + scale * torch.randn(n, 1, WINDOW, generator=torch.Generator().manual_seed(seed))


def test_a_ten_class_run_starts_a_three_class_model_except_its_heads(tmp_path):
    trained = wdcnn(10)
    run = tmp_path / "run"
    save_checkpoint(run / "checkpoints" / "best.pt", {"model": trained.state_dict(), "config": {}, "epoch": 4})
    model = wdcnn(3)
    report = load_matching(model, read_weights(run), prefix_map={"head.": None, "arcface.": None})
    assert report.initialised == ["arcface.weight", "head.1.bias", "head.1.weight"]
    assert report.skipped == report.initialised
    feats = {k: v for k, v in model.state_dict().items() if k.startswith("features.")}
    assert feats and all(torch.equal(v, trained.state_dict()[k]) for k, v in feats.items())


def test_adabn_normalises_the_first_layer_on_the_target_domain():
    model = wdcnn().eval()
    adapt_batchnorm(model, [windows(16, seed=1)], "cpu")  # "source" statistics
    target = windows(32, seed=2, scale=5.0, shift=2.0)
    conv, bn = model.features[0][0], model.features[0][1]
    with torch.no_grad():
        before = bn(conv(target))
    assert before.mean(dim=(0, 2)).abs().max() > 0.5  # source statistics do not fit the target
    weights = [p.clone() for p in model.parameters()]
    assert adapt_batchnorm(model, list(target.split(8)), "cpu") == 32
    with torch.no_grad():
        after = bn(conv(target))
    assert not model.training
    assert after.mean(dim=(0, 2)).abs().max() < 0.05
    assert torch.allclose(after.std(dim=(0, 2)), torch.ones(16), atol=0.05)
    assert all(torch.equal(a, b) for a, b in zip(weights, model.parameters(), strict=True))


def test_contrastive_steps_on_masked_views_lower_the_loss():
    model, head = wdcnn().train(), ProjectionHead(100, out_features=32)
    params = list(model.parameters()) + list(head.parameters())
    optimizer = torch.optim.SGD(params, lr=0.05)
    x = windows(8, seed=3)
    view1, _ = mask_spans(x, 0.2, 32, torch.Generator().manual_seed(0))
    view2, _ = mask_spans(x, 0.2, 32, torch.Generator().manual_seed(1))
    losses = []
    for _ in range(5):
        loss = nt_xent(head(model.forward_features(view1)), head(model.forward_features(view2)), 0.5)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_discriminator_gradient_reaches_the_encoder_reversed():
    model, disc, reverse = wdcnn().train(), DomainDiscriminator(100, dropout=0.0), GradientReversal()
    source, target = windows(6, seed=4), windows(6, seed=5, shift=1.0)
    domains = torch.cat([torch.ones(6), torch.zeros(6)])
    grads = []
    for weight in (0.0, dann_weight(0.5)):
        model.zero_grad()
        torch.manual_seed(0)
        reverse.weight = weight
        feats = model.forward_features(torch.cat([source, target]))
        F.binary_cross_entropy_with_logits(disc(reverse(feats)), domains).backward()
        grads.append(model.features[6].weight.grad.clone())
    assert torch.equal(grads[0], torch.zeros_like(grads[0]))
    model.zero_grad()
    torch.manual_seed(0)
    feats = model.forward_features(torch.cat([source, target]))
    F.binary_cross_entropy_with_logits(disc(feats), domains).backward()
    assert torch.allclose(grads[1], -dann_weight(0.5) * model.features[6].weight.grad, atol=1e-6)
    model.zero_grad()
    feats = model.forward_features(torch.cat([source, target]))
    (mmd(feats[:6], feats[6:]) + coral(feats[:6], feats[6:])).backward()
    assert torch.isfinite(model.features[6].weight.grad).all()
