"""Forms of the administration pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

ROLE_CHOICES = [("admin", _l("Administrator")), ("duty_officer", _l("Duty officer")),
                ("info_officer", _l("Information officer")),
                ("depot_manager", _l("Depot manager"))]


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Role"), choices=[SelectChoice(v, label) for v, label in ROLE_CHOICES],
                       validators=[DataRequired()])
    scopes = StringField(_l("Scope codes (space or comma separated)"),
                         validators=[Optional(), Length(max=2000)])
    email = StringField(_l("E-mail (for notifications)"),
                        validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Mobile phone (for SMS notifications)"),
                        validators=[Optional(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])

    def scope_codes(self) -> list[str]:
        raw = (self.scopes.data or "").replace(",", " ").replace("，", " ")
        return [code for code in raw.split() if code]


class EditUserForm(UserForm):
    """Changing a user: the username is fixed, a new password is optional (ends sessions)."""

    password = PasswordField(_l("New password (leave empty to keep)"),
                             validators=[Optional(), Length(max=200)])
