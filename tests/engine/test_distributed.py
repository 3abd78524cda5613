"""Multi-process training (gloo, 2 CPU processes): the same gradient steps as one process with the whole
batch, validation over the whole split in its order, accumulation, and every process stopping together."""

import os
import socket

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from faultcli.classification.hooks import ClassificationHooks
from faultcli.data.loader import BatchLoader
from faultcli.engine.distributed import ShardedLoader
from faultcli.engine.engine import Engine
from faultcli.engine.schedules import Schedule
from faultcli.engine.strategy import SingleProcess
from faultcli.errors import TrainingError
from faultcli.losses import FocalLoss
from faultcli.models.base import Classifier


class LinearNet(Classifier):
    """No BatchNorm, no dropout: a batch split between processes gives the whole batch's gradient."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.Tanh())
        self.head = nn.Linear(16, 3)
        self.num_features = 16

    def forward_features(self, x, **_):
        return self.body(x)

    def forward_head(self, f):
        return self.head(f)


def toy(n: int = 96):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    x[np.arange(n), y] += 2.0
    return x, y


def train_once(batch: int, accumulate: int, strategy, epochs: int = 3, lr_nan: bool = False):
    x, y = toy()
    if lr_nan:
        x = x.copy()
        x[5] = np.nan  # one sample of one process's shard turns the loss non-finite

    def fetch(rows):
        return {"x": torch.from_numpy(x[rows]), "y": torch.from_numpy(y[rows]), "extra": {}}

    torch.set_num_threads(1)  # as each process of the pair runs: the same summation order in every product
    torch.manual_seed(0)
    model = LinearNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train = strategy.shard(BatchLoader(np.arange(64), fetch, batch, shuffle=True))
    steps = -(-len(train) // accumulate)
    schedule = Schedule(optimizer, "constant", steps_per_epoch=steps, epochs=epochs, warmup_epochs=0)
    hooks = ClassificationHooks(FocalLoss(gamma=0.0), 3, seed=1)
    engine = Engine(
        model,
        optimizer,
        schedule,
        hooks,
        device=torch.device("cpu"),
        seed=3,
        grad_clip=0.0,
        accumulate=accumulate,
        strategy=strategy,
    )
    history = engine.fit(train, BatchLoader(np.arange(64, 96), fetch, 7), epochs)
    collected = engine.predict(BatchLoader(np.arange(64, 93), fetch, 5))  # 29 samples: padding is dropped
    return model.state_dict(), history, collected


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _worker(rank: int, world: int, port: int, out: str, accumulate: int, lr_nan: bool) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    from faultcli.engine.distributed import Distributed

    strategy = Distributed(rank, world, 0)
    try:
        state, history, collected = train_once(16 // world // accumulate, accumulate, strategy, lr_nan=lr_nan)
        result = {"state": state, "history": history, "collected": collected}
    except TrainingError as err:
        result = {"error": str(err)}
    torch.save(result, f"{out}.{rank}")
    strategy.close()


def run_two(tmp_path, accumulate: int = 1, lr_nan: bool = False) -> list[dict]:
    out = str(tmp_path / "result")
    mp.spawn(_worker, args=(2, _free_port(), out, accumulate, lr_nan), nprocs=2, join=True)
    return [torch.load(f"{out}.{rank}", weights_only=False) for rank in range(2)]


def test_two_processes_take_the_steps_of_one_with_the_whole_batch(tmp_path):
    one_state, one_history, one_collected = train_once(16, 1, SingleProcess())
    results = run_two(tmp_path)
    for result in results:  # both processes hold the same weights, equal to one process's
        for key, value in one_state.items():
            torch.testing.assert_close(result["state"][key], value, atol=1e-5, rtol=1e-5)
    # validation figures cover the whole split on every process
    for key in ("val_acc", "val_loss", "train_loss"):
        assert [h[key] for h in results[0]["history"]] == pytest.approx([h[key] for h in one_history], abs=1e-5)
    # outputs gathered in the split's own order, the padding of the last shard dropped
    assert results[0]["collected"]["y"].tolist() == one_collected["y"].tolist()
    torch.testing.assert_close(results[0]["collected"]["logits"], one_collected["logits"], atol=1e-5, rtol=1e-5)


def test_accumulation_equals_the_whole_batch():
    whole, _, _ = train_once(16, 1, SingleProcess())
    accumulated, _, _ = train_once(8, 2, SingleProcess())
    for key, value in whole.items():
        torch.testing.assert_close(accumulated[key], value, atol=1e-6, rtol=1e-6)


def test_two_processes_with_accumulation(tmp_path):
    whole, _, _ = train_once(16, 1, SingleProcess())
    results = run_two(tmp_path, accumulate=2)  # 4 per process × 2 processes × 2 batches a step
    for result in results:
        for key, value in whole.items():
            torch.testing.assert_close(result["state"][key], value, atol=1e-5, rtol=1e-5)


def test_a_non_finite_loss_on_one_process_stops_every_process(tmp_path):
    results = run_two(tmp_path, lr_nan=True)
    assert all("error" in r and "the loss became" in r["error"] for r in results)


def test_shards_cover_each_global_batch_once():
    rows = np.arange(10)
    whole = list(BatchLoader(rows, lambda r: r, 8))
    loader = BatchLoader(rows, lambda r: r, 4)  # 4 per process × 2 processes: the whole loader's batch of 8
    shards = [list(ShardedLoader(loader, rank, 2)) for rank in range(2)]
    assert [len(s) for s in shards] == [2, 2]
    for b, batch in enumerate(whole):
        assert sorted([*shards[0][b], *shards[1][b]]) == batch.tolist()
    # an odd count is padded from the start, as DistributedSampler pads
    odd = [list(ShardedLoader(BatchLoader(np.arange(5), lambda r: r, 4), rank, 2)) for rank in range(2)]
    assert odd[0][0].tolist() == [0, 2, 4] and odd[1][0].tolist() == [1, 3, 0]
