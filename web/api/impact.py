"""Impact matrices over HTTP: read by everyone (the console legend), changed by administrators."""

from __future__ import annotations

from flask import jsonify

from disaster.access import Role, require_role
from disaster.errors import DisasterNotFound
from disaster.warnings import impact_matrix
from disaster.warnings.levels import Hazard
from gis.messages import msg
from web.api.common import actor, api_blueprint, api_doc, json_body, session

bp = api_blueprint("impact")


@bp.get("/warnings/impact-matrices")
@api_doc(response=list[impact_matrix.MatrixOut])
def list_matrices():  # type: ignore[no-untyped-def]
    """Every hazard's likelihood × impact matrix and whether it is in use.

    ---
    summary: Impact matrices (WMO impact-based warnings)
    responses:
      200: {description: "one entry per hazard: enabled, trigger, bands and the matrix"}
    """
    return jsonify(impact_matrix.all_matrices(session()))


@bp.put("/warnings/impact-matrices/<hazard>")
@api_doc(body=impact_matrix.MatrixIn, response=impact_matrix.MatrixOut,
         responses={404: "no such hazard"})
def put_matrix(hazard: str):  # type: ignore[no-untyped-def]
    """Change a hazard's matrix or switch it on or off (administrators).

    ---
    summary: Change an impact matrix
    responses:
      200: {description: the matrix now in force}
      403: {description: administrators only}
      422: {description: invalid matrix}
    """
    require_role(actor(), Role.ADMIN, action="changing impact matrices")
    if hazard not in {h.value for h in Hazard}:
        raise DisasterNotFound(msg("unknown hazard %(hazard)s", hazard=hazard))
    body = json_body(impact_matrix.MatrixIn).model_dump(exclude_unset=True)
    return jsonify(impact_matrix.set_matrix(session(), actor(), hazard, body))
