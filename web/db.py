"""A database session per request: committed when the request succeeds, rolled back otherwise."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from web.runtime import Runtime


def runtime() -> Runtime:
    return current_app.extensions["disaster_runtime"]


def get_session() -> Session:
    """The request's session (created on first use)."""
    if "db_session" not in g:
        g.db_session = runtime().sessions()
    return g.db_session


def init_app(app: Flask) -> None:
    @app.after_request
    def _commit(response):  # type: ignore[no-untyped-def]
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        return response

    @app.teardown_request
    def _cleanup(exc):  # type: ignore[no-untyped-def]
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()
