from __future__ import annotations

import pytest

from tests.disaster.reports.factories import Region, build_region


@pytest.fixture
def region(session) -> Region:  # type: ignore[no-untyped-def]
    return build_region(session)
