"""The pages: login, Hari ini (today), Log transmisi, one transmission, Kepatuhan, Laporan (reports).

Handlers are async; database work runs in the thread pool. Templates are in ``templates/``.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date, datetime, timedelta
from typing import Any, overload

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gateway.store.models import utcnow
from gateway.timeutil import DAYS
from gateway.web import auth, params, queries
from gateway.web.compliance_grid import row_cells

log = logging.getLogger(__name__)

OK_MESSAGES = {"edit": "Transkrip disimpan.", "same": "Teks tidak berubah.",
               "verify": "Transkrip ditandai terverifikasi.", "assign": "Stasiun disimpan."}
REPORT_TYPES = {"json": "application/json; charset=utf-8", "csv": "text/csv; charset=utf-8",
                "html": "text/html; charset=utf-8", "pdf": "application/pdf"}
MAX_PAGE = 100_000  # a page number beyond this is clamped (the log pages on by 50)
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
         headers: dict[str, str] | None = None) -> HTMLResponse:
    user = request.scope.get("htg_user")
    ctx = {"user": user, "cfg": request.app.state.cfg, "path": request.url.path,
           "csrf": user.csrf if user else "", **context}
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, name, ctx, status_code=status_code, headers=headers)
    return response


@overload
def _day_param(request: Request, default: date) -> date: ...
@overload
def _day_param(request: Request, default: None) -> date | None: ...
def _day_param(request: Request, default: date | None) -> date | None:
    return params.query_date(request, "date", default)


def _local_today(request: Request) -> date:
    return datetime.now(request.app.state.cfg.tz).date()


# --- login / logout ---------------------------------------------------------------------------

async def login_form(request: Request) -> Response:
    if request.scope.get("htg_user") is not None:
        return RedirectResponse(auth.safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request, "", 200)


def _login_page(request: Request, error: str, status: int, headers: dict[str, str] | None = None) -> Response:
    token = request.cookies.get(auth.LOGIN_COOKIE) or secrets.token_urlsafe(32)
    response = page(request, "login.html", {"login_csrf": token, "error": error,
                                            "next": auth.safe_next(request.query_params.get("next"))},
                    status, headers)
    response.set_cookie(auth.LOGIN_COOKIE, token, max_age=3600, path="/login", httponly=True, samesite="lax",
                        secure=request.app.state.cfg.web.secure_cookies)
    return response


async def login_post(request: Request) -> Response:
    form = await request.form()
    if not auth.same(form.get("csrf"), request.cookies.get(auth.LOGIN_COOKIE) or ""):
        log.warning("web: login POST from %s without a valid form token", auth.client_ip(request))
        raise HTTPException(403, "Token formulir tidak sah; muat ulang halaman login.")
    name, password = form.get("name", ""), form.get("password", "")
    if not isinstance(name, str) or not isinstance(password, str):
        raise HTTPException(400)
    cfg = request.app.state.cfg.web
    result = await run_in_threadpool(auth.attempt_login, request.app.state.db, cfg, name, password,
                                     auth.client_ip(request))
    if result.retry_after is not None:
        minutes = -(-result.retry_after // 60)
        return _login_page(request, f"Terlalu banyak percobaan login yang gagal. Coba lagi dalam {minutes} "
                           "menit.", 429, {"Retry-After": str(result.retry_after)})
    if result.token is None:
        return _login_page(request, "Nama pengguna atau kata sandi salah.", 401)
    target = auth.safe_next(form.get("next"))
    response = RedirectResponse(target, status_code=303)
    auth.set_session_cookie(response, result.token, cfg)
    response.delete_cookie(auth.LOGIN_COOKIE, path="/login")
    return response


async def logout(request: Request) -> Response:
    user, _ = await auth.checked_form(request)
    await run_in_threadpool(auth.end_session, request.app.state.db, user, auth.client_ip(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


# --- today ------------------------------------------------------------------------------------

async def today(request: Request) -> Response:
    return await _board(request, "today.html")


async def today_fragment(request: Request) -> Response:
    return await _board(request, "_today_table.html")


async def _board(request: Request, template: str) -> Response:
    from gateway.fleet import channel_ids
    from gateway.web.board import board_view

    state = request.app.state
    now = state.clock()
    day = _day_param(request, now.astimezone(state.cfg.tz).date())
    channel = params.query_slug(request, "channel", "Kanal")  # "": every channel merged
    view = await run_in_threadpool(board_view, state.db, state.cfg, day, now, channel)
    channels = await run_in_threadpool(channel_ids, state.db, state.cfg) if template == "today.html" else []
    return page(request, template, {"view": view, "review": view.review, "channel": channel,
                                    "channels": channels})


# --- log --------------------------------------------------------------------------------------

async def log_page(request: Request) -> Response:
    from gateway.report.build import CATEGORY_ID
    from gateway.report.terms import forms
    from gateway.web import logsearch

    qp = request.query_params
    page_no = params.query_int(request, "page", 1, 1, MAX_PAGE)
    kerchunk = qp.get("kerchunk", "")
    base = queries.LogFilter(day=_day_param(request, None),
                             station=params.clean_text(qp.get("station", "")[:100]),
                             unknown=qp.get("unknown") == "1",
                             kerchunk=kerchunk if kerchunk in ("ya", "tidak") else "",
                             channel=params.query_slug(request, "channel", "Kanal"),
                             q=params.clean_text(qp.get("q", "")[:200]), page=page_no)
    f = logsearch.parse_filter(qp, base)
    result = await run_in_threadpool(logsearch.search_page, request.app.state.db, request.app.state.cfg, f)
    links = {k: v for k, v in (("date", base.day.isoformat() if base.day else ""), ("station", base.station),
                                ("unknown", "1" if base.unknown else ""), ("kerchunk", base.kerchunk),
                                ("channel", base.channel),
                                ("kategori", f.category), ("situasi", f.situation),
                                ("belum", "1" if f.unverified else ""), ("dengar", "1" if f.listen else ""),
                                ("q", base.q)) if v}
    marks = {form for w in queries.query_words(base.q) for form in forms(w)}
    return page(request, "log.html", {"f": base, "lf": f, "result": result, "params": links, "words": marks,
                                      "categories": CATEGORY_ID, "situations": logsearch.SITUATIONS})


# --- one transmission -------------------------------------------------------------------------

async def tx_page(request: Request) -> Response:
    tx_id = params.path_id(request)
    view = await run_in_threadpool(queries.tx_view, request.app.state.db, tx_id)
    if view is None:
        raise HTTPException(404, f"Transmisi {tx_id} tidak ada.")
    user = auth.current_user(request)
    return page(request, "tx.html", {"v": view, "can_edit": user.can("operator"),
                                     "ok": OK_MESSAGES.get(request.query_params.get("ok", ""), "")})


# --- compliance chart -------------------------------------------------------------------------

COMPLIANCE_DEFAULT_DAYS = 14
WEEKDAYS = DAYS  # gateway/timeutil.py


def _range_params(request: Request) -> tuple[date, date]:
    """``from`` and ``to`` (inclusive); by default the last 14 days up to today."""
    parsed = {name: params.query_date(request, name) for name in ("from", "to")}
    last = parsed["to"] or _local_today(request)
    first = parsed["from"] or last - timedelta(days=COMPLIANCE_DEFAULT_DAYS - 1)
    if first > last:
        raise HTTPException(400, f"Tanggal awal {first:%d-%m-%Y} sesudah tanggal akhir {last:%d-%m-%Y}.")
    span = (last - first).days + 1
    if span > queries.MAX_COMPLIANCE_DAYS:
        raise HTTPException(400, f"Rentang terlalu panjang: {span} hari; paling banyak "
                                 f"{queries.MAX_COMPLIANCE_DAYS} hari.")
    return first, last


async def compliance(request: Request) -> Response:
    first, last = _range_params(request)
    state = request.app.state
    view = await run_in_threadpool(queries.compliance_view, state.db, state.cfg, first, last, utcnow())
    day_titles = [f"{WEEKDAYS[d.weekday()]} {d:%d-%m-%Y}" for d in view.days]
    return page(request, "compliance.html", {"view": view, "day_titles": day_titles,
                                             "cells": row_cells(view, day_titles),
                                             "max_days": queries.MAX_COMPLIANCE_DAYS})


# --- reports ----------------------------------------------------------------------------------

async def reports(request: Request) -> Response:
    db = request.app.state.db
    days = await run_in_threadpool(queries.report_days, db)
    followups = await run_in_threadpool(queries.open_followups, db)
    return page(request, "reports.html", {"days": days, "followups": followups,
                                          "formats": tuple(REPORT_TYPES)})


async def report_file(request: Request) -> Response:
    fmt = request.path_params["fmt"]
    day = params.parse_date(request.path_params["day"], "tanggal", status=404)
    if fmt not in REPORT_TYPES:
        raise HTTPException(404, f"Format {fmt[:20]!r} tidak dikenal ({', '.join(REPORT_TYPES)}).")
    rev = params.path_id(request, "rev", "Revisi")
    content = await run_in_threadpool(queries.report_content, request.app.state.db, day, rev)
    if content is None:
        raise HTTPException(404, f"Laporan {day} revisi {rev} tidak ada.")
    from gateway.web.reportfile import filed_pdf

    body = await run_in_threadpool(filed_pdf, request.app.state.data_dir, day, rev, content) \
        if fmt == "pdf" else None
    try:
        from gateway.report.render import render

        if body is None:
            body = await run_in_threadpool(render, content, fmt)
    except Exception as e:  # a format whose renderer is missing or broken: say so
        log.error("report %s rev %d as %s: %s: %s", day, rev, fmt, e.__class__.__name__, e)
        raise HTTPException(503, f"Format {fmt.upper()} belum tersedia.") from None
    disposition = "attachment" if request.query_params.get("unduh") else "inline"
    headers = {"Content-Disposition": f'{disposition}; filename="laporan-{day}-rev{rev}.{fmt}"',
               "Content-Security-Policy": REPORT_CSP}
    return Response(body, media_type=REPORT_TYPES[fmt], headers=headers)
