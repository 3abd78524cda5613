"""train.freeze_epochs through the fit flow: a linear probe first, then the whole model."""

from faultcli.config import load_config
from faultcli.progress import NullReporter
from faultcli.services.common import start_run
from faultcli.services.fit import fit
from tests.services.test_finetune import recipe


def test_freeze_epochs_probes_first_then_unfreezes(tmp_path):
    cfg = load_config(recipe(tmp_path, "wdcnn"), ["train.freeze_epochs=1", "train.epochs=2", "train.threads=1"])
    with start_run("finetune", cfg, None, tmp_path / "run") as run:
        summary = fit(cfg, run, NullReporter())
    log = (tmp_path / "run" / "run.log").read_text()
    assert "epoch 2: encoder unfrozen after 1 epoch(s) of linear probe" in log
    assert summary["epochs_run"] == 2
