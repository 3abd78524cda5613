"""The one engine: learning, checkpoints, resume, NaN guard, schedules."""

import numpy as np
import pytest
import torch
from torch import nn

from faultcli.classification.hooks import ClassificationHooks
from faultcli.data.loader import BatchLoader
from faultcli.engine.callbacks import Checkpoint, EarlyStopping, Monitor
from faultcli.engine.checkpoints import load_checkpoint, save_checkpoint
from faultcli.engine.engine import Engine
from faultcli.engine.schedules import Schedule, piecewise, warmup_cosine
from faultcli.errors import CheckpointError, TrainingError
from faultcli.losses import FocalLoss
from faultcli.models.base import Classifier


class TinyNet(Classifier):
    def __init__(self, n_in: int = 8, n_classes: int = 3) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, 16), nn.ReLU(), nn.Dropout(0.1))
        self.head = nn.Linear(16, n_classes)
        self.num_features = 16

    def forward_features(self, x, **_):
        return self.body(x)

    def forward_head(self, f):
        return self.head(f)


def toy_data(n: int = 96, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    x[np.arange(n), y] += 3.0  # separable
    return x, y


def make_engine(tmp_path, epochs_seed=0, callbacks=None, lr=0.05, ema_decay=None):
    torch.manual_seed(epochs_seed)
    x, y = toy_data()
    fetch = lambda rows: {"x": torch.from_numpy(x[rows]), "y": torch.from_numpy(y[rows]), "extra": {}}  # noqa: E731
    model = TinyNet()
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    train = BatchLoader(np.arange(64), fetch, 16, shuffle=True)
    val = BatchLoader(np.arange(64, 96), fetch, 32)
    hooks = ClassificationHooks(FocalLoss(gamma=2.0), 3, mixup_alpha=0.4, seed=1)
    schedule = Schedule(opt, "cosine", steps_per_epoch=len(train), epochs=6, warmup_epochs=1)
    engine = Engine(
        model, opt, schedule, hooks, callbacks or [], device=torch.device("cpu"), seed=3, ema_decay=ema_decay
    )
    return engine, train, val


def test_engine_learns_a_separable_task(tmp_path):
    engine, train, val = make_engine(tmp_path)
    history = engine.fit(train, val, epochs=6)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["val_acc"] > 0.9


def test_resume_reproduces_uninterrupted_run(tmp_path):
    full, train, val = make_engine(
        tmp_path, callbacks=[Checkpoint(tmp_path / "a", Monitor("val_loss", "min"), {"config": {}})]
    )
    reference = full.fit(train, val, epochs=6)

    first, train, val = make_engine(
        tmp_path, callbacks=[Checkpoint(tmp_path / "b", Monitor("val_loss", "min"), {"config": {}})]
    )
    first.fit(train, val, epochs=3)  # "interrupted" after 3 epochs
    second, train, val = make_engine(
        tmp_path, epochs_seed=99, callbacks=[Checkpoint(tmp_path / "b", Monitor("val_loss", "min"), {"config": {}})]
    )
    second.load_state_dict(load_checkpoint(tmp_path / "b" / "last.pt"))
    resumed = second.fit(train, val, epochs=6)
    for ref, res in zip(reference, resumed, strict=True):
        assert res["val_loss"] == pytest.approx(ref["val_loss"], rel=1e-5)
        assert res["train_loss"] == pytest.approx(ref["train_loss"], rel=1e-5)


def test_weight_average_is_validated_and_checkpointed(tmp_path):
    engine, train, val = make_engine(
        tmp_path, callbacks=[Checkpoint(tmp_path, Monitor("val_loss", "min"), {"config": {}})], ema_decay=0.9
    )
    history = engine.fit(train, val, epochs=3)
    averaged = engine.ema.module
    assert not torch.equal(averaged.head.weight, engine.model.head.weight)  # an average, not a copy
    assert int(engine.ema.n_averaged) == 3 * len(train)
    state = load_checkpoint(tmp_path / "last.pt")
    # "model" holds the averaged weights, the ones inference should use; the trained ones ride along
    assert torch.equal(state["model"]["head.weight"], averaged.head.weight)
    assert torch.equal(state["train_model"]["head.weight"], engine.model.head.weight)
    # validation ran on the average: scoring it again gives the last epoch's val loss
    engine.model.head.weight.data.fill_(0.0)  # the trained weights no longer matter
    again = engine.hooks.validation_metrics(engine.predict(val))
    assert again["loss"] == pytest.approx(history[-1]["val_loss"], rel=1e-5)


def test_resume_with_weight_average_reproduces_uninterrupted_run(tmp_path):
    def checkpoint(name):
        return [Checkpoint(tmp_path / name, Monitor("val_loss", "min"), {"config": {}})]

    full, train, val = make_engine(tmp_path, callbacks=checkpoint("a"), ema_decay=0.9)
    reference = full.fit(train, val, epochs=5)
    first, train, val = make_engine(tmp_path, callbacks=checkpoint("b"), ema_decay=0.9)
    first.fit(train, val, epochs=2)
    second, train, val = make_engine(tmp_path, epochs_seed=99, callbacks=checkpoint("b"), ema_decay=0.9)
    second.load_state_dict(load_checkpoint(tmp_path / "b" / "last.pt"))
    resumed = second.fit(train, val, epochs=5)
    for ref, res in zip(reference, resumed, strict=True):
        assert res["val_loss"] == pytest.approx(ref["val_loss"], rel=1e-5)
    plain, train, val = make_engine(tmp_path, callbacks=checkpoint("c"))
    plain.fit(train, val, epochs=1)
    averaged, _, _ = make_engine(tmp_path, ema_decay=0.9)
    with pytest.raises(TrainingError, match="no weight average"):
        averaged.load_state_dict(load_checkpoint(tmp_path / "c" / "last.pt"))


def test_checkpoint_round_trip_loads_with_weights_only(tmp_path):
    engine, train, val = make_engine(
        tmp_path, callbacks=[Checkpoint(tmp_path, Monitor("val_acc", "max"), {"config": {"a": 1}, "classes": ["x"]})]
    )
    engine.fit(train, val, epochs=2)
    state = torch.load(tmp_path / "best.pt", weights_only=True)
    assert state["classes"] == ["x"] and state["epoch"] >= 1
    model = TinyNet()
    model.load_state_dict(state["model"])
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="not a faultcli checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    save_checkpoint(tmp_path / "nomodel.pt", {"x": 1})
    with pytest.raises(CheckpointError, match="no model"):
        load_checkpoint(tmp_path / "nomodel.pt")


def test_nan_loss_stops_with_training_error_and_keeps_last_checkpoint(tmp_path):
    engine, train, val = make_engine(
        tmp_path, callbacks=[Checkpoint(tmp_path, Monitor("val_loss", "min"), {"config": {}})]
    )
    engine.fit(train, val, epochs=1)
    before = load_checkpoint(tmp_path / "last.pt")["epoch"]
    with torch.no_grad():
        engine.model.head.weight.fill_(float("nan"))
    with pytest.raises(TrainingError, match="loss became nan"):
        engine.fit(train, val, epochs=3)
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == before


def test_early_stopping_stops_after_patience():
    stopper = EarlyStopping(Monitor("val_acc", "max"), patience=2)

    class E:
        should_stop = False

    engine = E()
    for epoch, acc in enumerate([0.5, 0.6, 0.6, 0.59]):
        stopper.on_epoch_end(engine, epoch, {"val_acc": acc})
    assert engine.should_stop and stopper.monitor.best == 0.6


def test_monitor_breaks_ties_of_a_saturated_metric_by_val_loss():
    monitor = Monitor("val_macro_f1", "max", tie_metric="val_loss")
    history = [(0.9, 0.5), (1.0, 0.4), (1.0, 0.2), (1.0, 0.3), (0.99, 0.1)]
    improved = [monitor.update({"val_macro_f1": f1, "val_loss": loss}) for f1, loss in history]
    assert improved == [True, True, True, False, False]
    assert (monitor.best, monitor.best_tie) == (1.0, 0.2)
    # epoch + max: the latest of the tied epochs
    latest = Monitor("val_macro_f1", "max", tie_metric="epoch", tie_mode="max")
    improved = [latest.update({"val_macro_f1": f1, "epoch": i}) for i, (f1, _) in enumerate(history)]
    assert improved == [True, True, True, True, False] and latest.best_tie == 3
    # without a tie-break the first epoch at 1.0 is kept
    plain = Monitor("val_macro_f1", "max")
    assert [plain.update({"val_macro_f1": f1, "val_loss": loss}) for f1, loss in history] == [
        True,
        True,
        False,
        False,
        False,
    ]


def test_schedules():
    assert warmup_cosine(0, 10, 100) == pytest.approx(0.1)
    assert warmup_cosine(9, 10, 100) == pytest.approx(1.0)
    assert warmup_cosine(10, 10, 100) == pytest.approx(1.0)
    assert warmup_cosine(100, 10, 100) == pytest.approx(0.01)
    assert warmup_cosine(55, 10, 100) == pytest.approx(0.01 + 0.99 * 0.5)
    pairs = [[0, 0.3], [10, 0.5], [20, 0.7]]
    assert [piecewise(pairs, e) for e in (0, 9, 10, 25)] == [0.3, 0.3, 0.5, 0.7]
    assert piecewise([], 5) == 0.0
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    plateau = Schedule(opt, "plateau", plateau_metric="val_loss", plateau_mode="min", plateau_patience=0)
    plateau.step_epoch({"val_loss": 1.0})
    plateau.step_epoch({"val_loss": 1.0})
    assert plateau.current_lr() == pytest.approx(0.5)


class TinyConvNet(TinyNet):
    """TinyNet's 16-feature head on a small conv body (two convolutions, global average pooling)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 16, 3))

    def forward_features(self, x, **_):
        return self.body(x).mean(dim=(2, 3))


def _train_tiny_conv(channels_last: bool) -> tuple[torch.Tensor, TinyConvNet, list[float]]:
    """(second conv's weight before training, trained model, per-epoch train loss)."""
    torch.manual_seed(0)
    x = torch.randn(32, 1, 8, 8)
    y = torch.arange(32) % 3
    x[torch.arange(32), 0, y, y] += 4.0  # a class-specific bright pixel
    fetch = lambda rows: {"x": x[rows], "y": y[rows], "extra": {}}  # noqa: E731
    model = TinyConvNet()
    opt = torch.optim.AdamW(model.parameters(), lr=0.05)
    train = BatchLoader(np.arange(32), fetch, 8, shuffle=True)
    schedule = Schedule(opt, "constant", steps_per_epoch=len(train), epochs=3, warmup_epochs=0)
    hooks = ClassificationHooks(nn.CrossEntropyLoss(), 3, seed=1)
    engine = Engine(model, opt, schedule, hooks, device=torch.device("cpu"), channels_last=channels_last)
    assert model.body[3].weight.is_contiguous(memory_format=torch.channels_last) is channels_last
    untrained = model.body[3].weight.detach().clone()
    history = engine.fit(train, None, epochs=3)
    return untrained, model, [h["train_loss"] for h in history]


def test_channels_last_trains_the_same_model_as_contiguous():
    untrained, nhwc, nhwc_losses = _train_tiny_conv(channels_last=True)
    _, nchw, nchw_losses = _train_tiny_conv(channels_last=False)
    assert not torch.allclose(nhwc.body[3].weight, untrained)  # the optimiser still updates converted weights
    # the same trajectory up to float summation order
    assert nhwc_losses == pytest.approx(nchw_losses, rel=1e-4)
    assert nhwc_losses[-1] < nhwc_losses[0]
    torch.testing.assert_close(nhwc.body[3].weight, nchw.body[3].weight, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("stop_at", "where"), [(6, "epoch 2, batch 2"), (8, "epoch 2, batch 4")])
def test_a_signal_stops_after_a_step_and_resume_continues_where_it_stopped(tmp_path, stop_at, where):
    import signal

    from faultcli.engine.interrupt import Interrupted, stop_on_signals

    def checkpoint(name):
        return [Checkpoint(tmp_path / name, Monitor("val_loss", "min"), {"config": {}})]

    full, train, val = make_engine(tmp_path, callbacks=checkpoint("a"))
    reference = full.fit(train, val, epochs=4)

    first, train, val = make_engine(tmp_path, callbacks=checkpoint("b"))
    inner, calls = first.hooks.training_step, [0]

    def step(model, batch, ctx):  # Ctrl-C arrives while the step runs (4 steps an epoch)
        calls[0] += 1
        if calls[0] == stop_at:
            signal.raise_signal(signal.SIGINT)
        return inner(model, batch, ctx)

    first.hooks.training_step = step
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even in a background job
    try:
        with pytest.raises(Interrupted, match=f"SIGINT at {where}"), stop_on_signals(first):
            first.fit(train, val, epochs=4)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is gone again
    finally:
        signal.signal(signal.SIGINT, before)
    state = load_checkpoint(tmp_path / "b" / "last.pt")
    assert state["epoch"] == 1 and state["partial"]["step"] == stop_at - 4

    second, train, val = make_engine(tmp_path, epochs_seed=99, callbacks=checkpoint("b"))
    second.load_state_dict(state)
    resumed = second.fit(train, val, epochs=4)
    assert len(resumed) == 4
    for ref, res in zip(reference, resumed, strict=True):
        assert res["val_loss"] == pytest.approx(ref["val_loss"], rel=1e-6)
        assert res["train_loss"] == pytest.approx(ref["train_loss"], rel=1e-6)
    for key, value in full.model.state_dict().items():
        torch.testing.assert_close(second.model.state_dict()[key], value)
