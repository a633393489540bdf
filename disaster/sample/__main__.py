"""``python -m disaster.sample OUT_DIR [--seed N] [--as-of YYYY-MM-DD]``: write the sample files."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from disaster.sample import DEFAULT_SEED, generate_sample, write_dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m disaster.sample",
                                     description="Generate the 宿州 sample data as files.")
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None,
                        help="date the opening stock is counted on (default: today, UTC)")
    args = parser.parse_args(argv)
    manifest = write_dataset(generate_sample(args.seed, args.as_of), args.out_dir)
    print(json.dumps(manifest["counts"], ensure_ascii=False))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
