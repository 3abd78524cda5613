"""Everything the console prints from messages, values and paths is text: brackets never read as markup."""

from __future__ import annotations

from faultcli.cli import console as con


def test_info_lines_tables_and_paths_print_brackets_as_they_are(capsys):
    con.ConsoleReporter().info("warning: data/[/x]/a.mat [bold] skipped")
    con.print_table("t [/x]", ["name [/y]", "value"], [["[/z]", 1.5]])
    con.print_summary("summary", {"accuracy": "[red]"}, ("accuracy",), "/runs/[/x]run")
    con.print_path("export folder", "/out/[b]x[/b]")
    with con.ConsoleReporter().task("reading [/x]", total=1) as task:
        task.advance(file="[/q]")
    out = capsys.readouterr().out
    for text in ("data/[/x]/a.mat [bold] skipped", "t [/x]", "name [/y]", "[/z]", "[red]", "/runs/[/x]run"):
        assert text in out
    assert "/out/[b]x[/b]" in out and "reading [/x] 1/1 file [/q]" in out


def test_error_lines_keep_brackets(capsys):
    con.report_error("recipe [/x] missing [row0].toml")
    assert capsys.readouterr().err.strip() == "error: recipe [/x] missing [row0].toml"
