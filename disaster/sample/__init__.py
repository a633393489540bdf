"""The 宿州 sample data set, generated reproducibly from real outlines, names and census figures.

``generate_sample(seed, as_of)`` returns the shared-format record dicts
(:mod:`disaster.sample.records`) that the loader writes through the domain services;
``write_dataset`` writes them as import files. Importing this package does no work:
generation runs only when called.
"""

from __future__ import annotations

from disaster.sample.export import write_dataset
from disaster.sample.generate import DEFAULT_SEED, generate_sample
from disaster.sample.records import SampleData

__all__ = ["DEFAULT_SEED", "SampleData", "generate_sample", "write_dataset"]
