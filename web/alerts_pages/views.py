"""``/alerts/ack/<token>``: the acknowledgement link sent by e-mail and SMS.

The link itself is the credential (a random secret per notification), so officers on a phone
acknowledge without signing in. GET only shows the alert and a button, because link
scanners and previews must not acknowledge for the officer; POST records it.
"""

from __future__ import annotations

from flask import Blueprint, render_template_string
from flask_babel import gettext as _
from sqlalchemy import select

from disaster.errors import DisasterNotFound
from disaster.notify import ack
from disaster.notify.models import Notification
from disaster.warnings.models import Alert
from web.db import get_session

bp = Blueprint("alerts_pages", __name__, url_prefix="/alerts")

PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 1em auto; padding: 0 1em">
<h1 style="font-size: 1.3em">{{ alert.headline }}</h1>
<p>{{ alert.description }}</p>
{% if done %}<p><strong>{{ done }}</strong></p>{% else %}
<form method="post"><input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<button type="submit" style="font-size: 1.2em; padding: .5em 1em">{{ button }}</button></form>
{% endif %}</body></html>"""


def _lookup(token: str) -> tuple[Notification, Alert]:
    s = get_session()
    note = s.scalar(select(Notification).where(Notification.token == token))
    alert = s.scalar(select(Alert).where(Alert.identifier == note.reference)) \
        if note is not None and note.officer_id is not None else None
    if note is None or alert is None:
        raise DisasterNotFound(_("Unknown or expired acknowledgement link"))
    return note, alert


@bp.get("/ack/<token>")
def ack_page(token: str):  # type: ignore[no-untyped-def]
    _note, alert = _lookup(token)
    return render_template_string(PAGE, lang="zh-CN", title=_("Acknowledge alert"), alert=alert,
                                  done=None, button=_("I have received this warning"))


@bp.post("/ack/<token>")
def ack_submit(token: str):  # type: ignore[no-untyped-def]
    _note, alert = _lookup(token)
    ack.acknowledge_token(get_session(), token)
    return render_template_string(PAGE, lang="zh-CN", title=_("Acknowledge alert"), alert=alert,
                                  done=_("Acknowledged. Thank you."), button="")
