"""Records of the generated sample (no database, no ORM): what a loader writes.

The builders work on the typed records below; :class:`SampleData` holds them converted to
the plain dicts of the shared record format (docs/TEAM_BRIEF.md), which the importers' upsert
services take: geometries (shapely, EPSG:4326) under ``geometry``, stock keyed by ``depot``
and ``item``, officers with their ``primary`` and ``backup`` community codes. Enumerated
fields hold the stored VALUES of the models' enums (``AreaLevel``, ``HazardKind``,
``ShelterKind``…), so this package needs neither ``shelters`` nor ``stockpile``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Any

from shapely.geometry import MultiPolygon, Point


@dataclass
class AreaRecord:
    code: str
    name: str
    level: str  # city | county | township
    parent_code: str | None
    population: int
    geom: MultiPolygon
    generated: bool
    source: str


@dataclass
class CommunityRecord:
    code: str
    name: str
    township_code: str
    county_code: str
    population: int
    households: int
    elderly: int
    children: int
    disabled: int
    farmland_share: float
    urban: bool
    geom: MultiPolygon
    point: Point
    generated: bool = True
    source: str = "generated: Voronoi tiling of its township; population drawn and scaled to the 2020 census"


@dataclass
class HazardZoneRecord:
    code: str
    name: str
    kind: str  # flood_prone | waterlogging | collapse
    level: int  # 1 low, 2 medium, 3 high
    geom: MultiPolygon
    source: str
    generated: bool = True


@dataclass
class ShelterRecord:
    code: str
    name: str
    kind: str  # emergency | fixed | central (GB 51143-2015 紧急 / 固定 / 中心)
    shelter_class: str  # I | II | III (GB 21734-2008)
    level: str  # municipal | county | township
    capacity: int
    capacity_day: int
    capacity_night: int
    area_m2: float
    facilities: dict[str, Any]
    county_code: str
    community_code: str
    address: str
    point: Point
    status: str = "standby"
    occupancy: int = 0
    generated: bool = True
    source: str = "generated: site, name and capacity are invented for the demo"


@dataclass
class DepotRecord:
    code: str
    name: str
    level: str  # city | county | township
    county_code: str
    address: str
    point: Point
    generated: bool = True
    source: str = "generated: site and name are invented for the demo"


@dataclass
class StockRecord:
    """Opening stock of one lot: loaded as a receipt in the ledger."""

    depot_code: str
    item_code: str
    quantity: int
    lot: str
    received_on: dt.date
    expires_on: dt.date | None
    generated: bool = True
    source: str = "generated: opening stock in typical amounts for the depot level"


@dataclass
class OfficerRecord:
    code: str
    name: str
    phone: str
    email: str
    home_community_code: str
    generated: bool = True
    source: str = "generated: invented person"


@dataclass
class AssignmentRecord:
    officer_code: str
    community_code: str
    role: str  # primary | backup


@dataclass
class UserRecord:
    """A demo account; the loader sets a random password and prints it once."""

    username: str
    role: str  # admin | duty_officer | info_officer | depot_manager
    display_name: str
    scopes: list[str] = field(default_factory=list)
    officer_code: str | None = None


# Builder field → shared-format key.
RENAMES: dict[str, dict[str, str]] = {
    "areas": {"geom": "geometry"},
    "communities": {"geom": "geometry"},
    "hazard_zones": {"geom": "geometry"},
    "shelters": {"point": "geometry"},
    "depots": {"point": "geometry"},
    "stock": {"depot_code": "depot", "item_code": "item"},
}


def as_record(obj: Any, renames: dict[str, str] | None = None) -> dict[str, Any]:
    """A builder dataclass as a shared-format dict (keys renamed, lists copied)."""
    renames = renames or {}
    out = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        out[renames.get(f.name, f.name)] = list(value) if isinstance(value, list) else value
    return out


def officer_records(officers: list[OfficerRecord],
                    assignments: list[AssignmentRecord]) -> list[dict[str, Any]]:
    """Officers with the sorted community codes they are ``primary`` and ``backup`` for."""
    roles: dict[str, dict[str, list[str]]] = {o.code: {"primary": [], "backup": []}
                                             for o in officers}
    for a in assignments:
        roles[a.officer_code][a.role].append(a.community_code)
    return [as_record(o) | {k: sorted(v) for k, v in roles[o.code].items()} for o in officers]


@dataclass
class SampleData:
    """Everything the 宿州 sample holds, as shared-format record dicts, in load order."""

    seed: int
    as_of: dt.date
    areas: list[dict[str, Any]]
    communities: list[dict[str, Any]]
    hazard_zones: list[dict[str, Any]]
    shelters: list[dict[str, Any]]
    depots: list[dict[str, Any]]
    stock: list[dict[str, Any]]
    officers: list[dict[str, Any]]
    users: list[dict[str, Any]]
    items: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many records of each kind."""
        return {f.name: len(getattr(self, f.name)) for f in fields(self)
                if isinstance(getattr(self, f.name), list)}

    def fingerprint(self) -> str:
        """SHA-256 over every record (geometries as WKB): equal fingerprints, equal data."""
        digest = hashlib.sha256()
        digest.update(f"{self.seed}|{self.as_of.isoformat()}".encode())
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                for record in value:
                    plain = {k: (v.wkb_hex if hasattr(v, "wkb_hex") else v)
                             for k, v in record.items()}
                    digest.update(json.dumps(plain, sort_keys=True, default=str,
                                             ensure_ascii=False).encode())
        return digest.hexdigest()
