"""Record schemas of the disaster package: areas, communities, hazard zones, officers, users.

One schema per record kind (docs/CONVENTIONS.md "Record format"): the importer
(``web.data_io``), the CLI and the upsert services validate the same record with it, so a
row of a file, a command's input and a service call are refused alike, ``row N: field``
naming every bad row (:func:`disaster.upsert.validate_records`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BeforeValidator, Field

from disaster import upsert as u
from disaster.access import Role
from disaster.areas import AreaLevel
from disaster.hazards import HazardKind
from gis.messages import msg
from gis.schema import Boolean, Schema, text

_PHONE = re.compile(r"^[0-9+\-() ]{5,40}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,80}$")
_LIST_SPLIT = re.compile(r"[;,\s、]+")


def _pattern(regex: re.Pattern[str], problem: str) -> Any:
    def check(value: str) -> str:
        if not regex.match(value):
            raise ValueError(msg(problem))
        return value

    return AfterValidator(check)


def _code_list(value: Any) -> Any:
    """A list of codes from a list, or from one cell ``"a;b"`` (comma, space or 、 also)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [c for c in _LIST_SPLIT.split(value.strip()) if c]
    if isinstance(value, list | tuple | set):
        return [u._code_text(c) for c in value if not u.is_blank(c)]
    return value


Name = text(120, min_length=1)
CodeList = Annotated[list[text(40, min_length=1)], BeforeValidator(_code_list),
                     Field(max_length=10_000)]


class AreaRecord(u.RecordSchema):
    """A city, county or township (GB/T 2260 code, 6 or 9 digits) with its polygon."""

    COLUMNS: ClassVar[dict[str, str]] = {"geometry": "geom"}
    GEOMETRIES: ClassVar[tuple[str, ...]] = ("geometry",)

    code: u.digits(6, 9)
    name: Name = None
    level: u.enum_of(AreaLevel) = None
    parent_code: u.digits(6, 9) | None = None
    population: u.count() | None = None
    generated: u.Generated = None
    source: text(200) | None = None
    geometry: u.PolygonGeometry = None


class CommunityRecord(u.RecordSchema):
    """A village or urban community (12-digit code = township code + 3)."""

    COLUMNS: ClassVar[dict[str, str]] = {"geometry": "geom"}
    GEOMETRIES: ClassVar[tuple[str, ...]] = ("geometry", "point")

    code: u.digits(12)
    name: Name = None
    township_code: u.digits(9) = None
    county_code: u.digits(6) = None
    population: u.count() = None
    households: u.count() = None
    elderly: u.count() = None
    children: u.count() = None
    disabled: u.count() = None
    farmland_share: u.number(0.0, 1.0) | None = None
    urban: Boolean = None
    generated: u.Generated = None
    geometry: u.PolygonGeometry = None
    point: u.PointGeometry = None


class HazardZoneRecord(u.RecordSchema):
    """A flood-prone, waterlogging, landslide… zone of level 1 to 3."""

    COLUMNS: ClassVar[dict[str, str]] = {"geometry": "geom"}
    GEOMETRIES: ClassVar[tuple[str, ...]] = ("geometry",)

    code: u.code(40)
    name: Name = None
    kind: u.enum_of(HazardKind) = None
    level: u.count(1, 3) = None
    generated: u.Generated = None
    source: text(200) | None = None
    geometry: u.PolygonGeometry = None


class OfficerRecord(u.RecordSchema):
    """A community disaster information officer (灾害信息员) and the communities covered.

    ``primary``/``backup`` absent: the officer's assignments stay (contact details only).
    """

    code: text(32, min_length=1)
    name: text(80, min_length=1)
    phone: Annotated[text(40), _pattern(_PHONE, "is not a phone number")] | None = None
    email: Annotated[text(200), _pattern(_EMAIL, "is not an e-mail address")] | None = None
    home_community_code: text(40) | None = None
    primary: CodeList = Field(default_factory=list)
    backup: CodeList = Field(default_factory=list)
    active: Boolean = True
    generated: Boolean = False


class UserRecord(Schema):
    """A user account as ``disaster users add`` and the admin page take it."""

    username: Annotated[text(80), _pattern(_USERNAME, "3–80 letters, digits or _.@-")]
    role: Role
    scopes: CodeList = Field(default_factory=list)
    display_name: text(80) | None = None
    email: Annotated[text(200), _pattern(_EMAIL, "is not an e-mail address")] | None = None
    phone: Annotated[text(40), _pattern(re.compile(r"^\+?[0-9][0-9 -]{4,30}$"),
                                        "is not a phone number")] | None = None
