"""`faultcli prep`: read, label, window and split the raw data of a recipe into the cache."""

from __future__ import annotations

from faultcli.cli import console as con
from faultcli.cli.app import app
from faultcli.cli.options import Name, Out, Overrides, PrintConfig, Recipe


@app.command(rich_help_panel="Data")
def prep(
    recipe: Recipe = None,
    overrides: Overrides = None,
    name: Name = None,
    out: Out = None,
    print_config: PrintConfig = False,
) -> None:
    """Prepare a recipe's dataset (cached; re-runs on unchanged files reuse it) and print class × split counts."""
    from faultcli.services import prep as service

    if print_config:
        con.print_config(service.resolve_config(recipe, overrides))
        return
    result = service.run_prep(recipe, overrides or [], name=name, out=out, reporter=con.ConsoleReporter())
    counts = result["counts"]
    splits = list(counts)
    rows = [
        [c, *(counts[s].get(c, 0) for s in splits), sum(counts[s].get(c, 0) for s in splits)] for c in result["classes"]
    ]
    rows.append(["total", *(sum(counts[s].values()) for s in splits), sum(sum(v.values()) for v in counts.values())])
    summary = result["summary"]
    con.print_table(f"{summary['kind']} dataset", ["class", *splits, "total"], rows)
    for note in result["notes"]:
        con.console.print(f"note: {note}", highlight=False, markup=False)
    cached = " (reused from the cache)" if summary["cache_hit"] else ""
    con.console.print(f"dataset: {summary['dataset']}{cached}", highlight=False, markup=False, soft_wrap=True)
    con.console.print(f"run folder: {result['run_dir']}", highlight=False, markup=False, soft_wrap=True)
