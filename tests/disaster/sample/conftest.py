"""One generated sample per test session: generation takes seconds, the checks milliseconds."""

from __future__ import annotations

import pytest

from disaster.sample import generate_sample
from tests.disaster.sample.support import AS_OF


@pytest.fixture(scope="session")
def sample():
    return generate_sample(as_of=AS_OF)
