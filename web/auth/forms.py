"""Sign-in and password forms (Flask-WTF: carry and check the CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

# PostgreSQL text cannot hold NUL: such input is refused as a form error, never sent on.
NO_NUL = Regexp(r"^[^\x00]*$", message=_l("contains a NUL character"))


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80), NO_NUL])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200), NO_NUL])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("The two new passwords differ."))])
