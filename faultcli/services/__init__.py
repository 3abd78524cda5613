"""Services: one importable function per command; they orchestrate and never print."""
