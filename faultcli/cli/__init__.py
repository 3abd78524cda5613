"""The command line: parse, call one service, print. All Typer code lives here."""
