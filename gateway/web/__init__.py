"""The web UI for the bupati's office (read) and the operators (replay, correct, verify, assign).

``gateway.web.app.create_app`` builds the Starlette application; ``ht-gateway web`` serves it with
uvicorn (``gateway/cli/web.py``). Users, roles and the audit log: ``gateway.web.users``; sessions,
CSRF and login rate limiting: ``gateway.web.auth``.
"""
