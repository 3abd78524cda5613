"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s smoke`.

They run in the current environment (a fresh virtual environment per session would install torch
again), after `pip install -e ".[dev]"`.
"""

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "tests"]


@nox.session
def tests(session: nox.Session) -> None:
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.run("ruff", "check", "faultcli", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "faultcli", "tests", "benchmarks", "noxfile.py")


@nox.session
def smoke(session: nox.Session) -> None:
    """Every shipped recipe resolves, and prep + a 1-epoch finetune run on the real CWRU data."""
    session.run("faultcli", "--version")
    session.run("faultcli", "prep", "--recipe", "recipes/cwru.toml", "--name", "smoke")
    session.run(
        "faultcli",
        "finetune",
        "--recipe",
        "recipes/small.toml",
        "--name",
        "smoke",
        "--set",
        "train.epochs=1",
        "--set",
        "train.max_train_batches=20",
    )
