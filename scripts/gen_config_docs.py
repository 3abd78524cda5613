"""Write docs/config.md, the recipe reference, from the schema's help texts (or check it is current).

python scripts/gen_config_docs.py            # rewrite docs/config.md
python scripts/gen_config_docs.py --check    # exit 1 if docs/config.md is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from faultcli.config.docs import render
from faultcli.runs import atomic_write_text
from faultcli.services.catalog import registered_names

TARGET = Path(__file__).resolve().parents[1] / "docs" / "config.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--out", type=Path, default=TARGET, help=f"file to write (default {TARGET})")
    args = parser.parse_args()
    text = render(registered_names)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is out of date: run python scripts/gen_config_docs.py", file=sys.stderr)
            return 1
        return 0
    atomic_write_text(args.out, text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
