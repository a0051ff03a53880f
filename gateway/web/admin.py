"""Administration in the browser: follow-ups, users, the audit log, the report draft and revisions.

- ``/followups``: what camats asked for; operators set status, OPD and a note (``POST /followups/{id}``).
- ``/admin/users`` (admin): add a user, disable/enable, set a new password, change the role.
- ``/admin/audit`` (admin): the audit log, filtered by kind, user and date range, 100 a page.
- ``/reports/draft``: today's (or ``?date=``) report as it would be filed now, with what changed since
  the last filed revision ("perubahan"); ``?channel=``: only what one channel heard (no changes
  shown: filed revisions merge every channel); ``/reports/{day}/{rev}``: a filed revision with its changes
  from the previous one (:mod:`gateway.web.report_diff`).

Every change is audited in the transaction that makes it; ids and dates go through
:mod:`gateway.web.params`; bad form values are a 400 naming the field, in Indonesian.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.report.document import Report
from gateway.report.model import FOLLOWUP_STATUSES as STATUSES
from gateway.store.models import AuditEntry, FollowUp, ReportRevision, WebUser, utcnow
from gateway.web import params, users
from gateway.web.auth import checked_form, client_ip, current_user, require
from gateway.web.fmt import AUDIT_KINDS
from gateway.web.report_diff import diff_reports
from gateway.web.views import page

AUDIT_PAGE = 100
MAX_NOTE = 1000
OK = {"fu": "Tindak lanjut disimpan.", "add": "Pengguna ditambahkan.", "disable": "Pengguna dinonaktifkan.",
      "enable": "Pengguna diaktifkan kembali.", "password": "Kata sandi baru disimpan; sesi pengguna itu "
      "berakhir.", "role": "Peran disimpan; pengguna itu perlu masuk lagi.",
      "same": "Tidak ada yang berubah."}


def _field(form: Any, name: str, limit: int = 200) -> str:
    value = form.get(name, "")
    return params.clean_text(value).strip()[:limit] if isinstance(value, str) else ""


def _ok(request: Request) -> str:
    return OK.get(request.query_params.get("ok", ""), "")


# --- follow-ups -------------------------------------------------------------------------------

def _followups(db: Any, show_all: bool) -> list[FollowUp]:
    with db.read() as s:
        q = select(FollowUp).order_by(FollowUp.day.desc(), FollowUp.id)
        if not show_all:
            q = q.where(FollowUp.status != "selesai")
        rows = list(s.scalars(q.limit(500)))
        for r in rows:
            s.expunge(r)
        return rows


async def followups_page(request: Request) -> Response:
    show_all = request.query_params.get("semua") == "1"
    rows = await run_in_threadpool(_followups, request.app.state.db, show_all)
    return page(request, "followups.html", {"rows": rows, "show_all": show_all, "statuses": STATUSES,
                                            "opds": request.app.state.cfg.report.opd, "ok": _ok(request),
                                            "can_edit": current_user(request).can("operator")})


def set_followup(db: Any, cfg: Any, fu_id: int, status: str, opd: str, note: str, by: str, ip: str) -> bool:
    if status not in STATUSES:
        raise HTTPException(400, f"Status {status[:20]!r} tidak dikenal (baru, diproses, selesai).")
    if opd and cfg.report.opd and opd not in cfg.report.opd:
        raise HTTPException(400, f"OPD {opd[:40]!r} tidak ada dalam daftar (report.opd).")
    with db.write() as s:
        f = s.get(FollowUp, fu_id)
        if f is None:
            raise HTTPException(404, f"Tindak lanjut {fu_id} tidak ada.")
        before = {"status": f.status, "opd": f.opd, "note": f.note}
        after = {"status": status, "opd": opd or None, "note": note}
        if before == after:
            return False
        f.status, f.opd, f.note, f.updated_at = status, opd or None, note, utcnow()
        users.audit(s, "followup_set", by, f"followup:{fu_id}", ip, before=before, after=after)
    return True


async def followup_post(request: Request) -> Response:
    user, form = await checked_form(request, "operator")
    fu_id = params.path_id(request, "fu_id", "Tindak lanjut")
    state = request.app.state
    changed = await run_in_threadpool(set_followup, state.db, state.cfg, fu_id, _field(form, "status", 20),
                                      _field(form, "opd", 100), _field(form, "note", MAX_NOTE), user.name,
                                      client_ip(request))
    return RedirectResponse(f"/followups?ok={'fu' if changed else 'same'}#fu-{fu_id}", status_code=303)


# --- users ------------------------------------------------------------------------------------

async def users_page(request: Request) -> Response:
    require(request, "admin")
    rows = await run_in_threadpool(users.list_users, request.app.state.db)
    return page(request, "admin_users.html", {"rows": rows, "roles": users.ROLES, "ok": _ok(request),
                                              "min_password": users.MIN_PASSWORD})


def _user_name(db: Any, user_id: int) -> str:
    with db.read() as s:
        name: str | None = s.scalar(select(WebUser.name).where(WebUser.id == user_id))
    if name is None:
        raise HTTPException(404, f"Pengguna {user_id} tidak ada.")
    return name


def _password(form: Any) -> str:
    value = form.get("password", "")
    password = value if isinstance(value, str) else ""
    if not users.MIN_PASSWORD <= len(password) <= users.MAX_PASSWORD:
        raise HTTPException(400, f"Kata sandi: {users.MIN_PASSWORD} sampai {users.MAX_PASSWORD} karakter.")
    return password


def _role(form: Any) -> str:
    role = _field(form, "role", 20)
    if role not in users.ROLES:
        raise HTTPException(400, f"Peran {role!r} tidak dikenal (viewer, operator, admin).")
    return role


async def user_add(request: Request) -> Response:
    admin, form = await checked_form(request, "admin")
    name, role, password = _field(form, "name", 60).lower(), _role(form), _password(form)
    if not users.NAME_RE.fullmatch(name):
        raise HTTPException(400, f"Nama pengguna {name[:40]!r}: 2-40 huruf kecil a-z, angka 0-9, . _ -; "
                                 "diawali huruf atau angka.")
    try:
        await run_in_threadpool(users.add_user, request.app.state.db, name, role, password, admin.name,
                                client_ip(request))
    except users.UserError:
        raise HTTPException(400, f"Pengguna {name!r} sudah ada.") from None
    return RedirectResponse("/admin/users?ok=add", status_code=303)


async def user_change(request: Request) -> Response:
    admin, form = await checked_form(request, "admin")
    user_id = params.path_id(request, "user_id", "Pengguna")
    action = request.url.path.rsplit("/", 1)[-1]
    db, ip = request.app.state.db, client_ip(request)
    name = await run_in_threadpool(_user_name, db, user_id)
    if user_id == admin.id and action in ("disable", "role"):
        raise HTTPException(400, "Anda tidak dapat menonaktifkan atau menurunkan peran akun Anda sendiri.")
    if action == "password":
        await run_in_threadpool(users.set_password, db, name, _password(form), admin.name, ip)
    elif action == "role":
        await run_in_threadpool(users.set_role, db, name, _role(form), admin.name, ip)
    else:
        await run_in_threadpool(users.set_disabled, db, name, action == "disable", admin.name, ip)
    return RedirectResponse(f"/admin/users?ok={action}", status_code=303)


# --- audit log --------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditFilter:
    kind: str
    actor: str
    first: date | None
    last: date | None
    page: int


def _audit_rows(db: Any, tz: Any, f: AuditFilter) -> tuple[list[AuditEntry], int, list[str]]:
    conds = []
    if f.kind:
        conds.append(AuditEntry.action == f.kind)
    if f.actor:
        conds.append(AuditEntry.actor == f.actor)
    if f.first:
        conds.append(AuditEntry.at >= datetime.combine(f.first, time(), tz))
    if f.last:
        conds.append(AuditEntry.at < datetime.combine(f.last + timedelta(days=1), time(), tz))
    with db.read() as s:
        total = s.scalar(select(func.count()).select_from(AuditEntry).where(*conds)) or 0
        rows = list(s.scalars(select(AuditEntry).where(*conds).order_by(AuditEntry.id.desc())
                              .offset((f.page - 1) * AUDIT_PAGE).limit(AUDIT_PAGE)))
        actors = [a for a in s.scalars(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)
                                       .limit(200)) if a]
        for r in rows:
            s.expunge(r)
    return rows, total, actors


async def audit_page(request: Request) -> Response:
    require(request, "admin")
    qp = request.query_params
    kind = qp.get("kind", "")
    f = AuditFilter(kind=kind if kind in AUDIT_KINDS else "",
                    actor=params.clean_text(qp.get("user", ""))[:100],
                    first=params.query_date(request, "from"), last=params.query_date(request, "to"),
                    page=params.query_int(request, "page", 1, 1, 100_000))
    if f.first and f.last and f.first > f.last:
        raise HTTPException(400, f"Tanggal awal {f.first:%d-%m-%Y} sesudah tanggal akhir {f.last:%d-%m-%Y}.")
    state = request.app.state
    rows, total, actors = await run_in_threadpool(_audit_rows, state.db, state.cfg.tz, f)
    links = {k: v for k, v in (("kind", f.kind), ("user", f.actor), ("from", f.first and f.first.isoformat()),
                                ("to", f.last and f.last.isoformat())) if v}
    return page(request, "admin_audit.html", {"rows": rows, "total": total, "f": f, "actors": actors,
                                              "kinds": AUDIT_KINDS, "links": links,
                                              "pages": max(1, -(-total // AUDIT_PAGE))})


# --- report draft and revisions ---------------------------------------------------------------

def _revision(db: Any, day: date, rev: int | None) -> tuple[Report, int] | None:
    """A filed revision's content and number (``rev`` None: the latest)."""
    with db.read() as s:
        q = select(ReportRevision.content, ReportRevision.revision).where(ReportRevision.day == day)
        q = q.where(ReportRevision.revision == rev) if rev is not None else q
        row = s.execute(q.order_by(ReportRevision.revision.desc()).limit(1)).first()
    return (Report.from_json(row[0]), row[1]) if row is not None else None


def _draft(db: Any, cfg: Any, day: date, channel: str) -> Report:
    from gateway.report.build import build_report

    return build_report(db, day, cfg, utcnow(), channel=channel)


async def draft_page(request: Request) -> Response:
    state = request.app.state
    day = params.query_date(request, "date", datetime.now(state.cfg.tz).date())
    assert day is not None
    channel = params.query_slug(request, "channel", "Kanal")  # "": every channel, as filed
    content = await run_in_threadpool(_draft, state.db, state.cfg, day, channel)
    last = await run_in_threadpool(_revision, state.db, day, None)
    changes = diff_reports(last[0] if last else None, content) if not channel else []
    return page(request, "report_view.html", {"r": content, "day": day, "draft": True, "rev": None,
                                              "base_rev": last[1] if last else None, "changes": changes,
                                              "channel": channel})


async def revision_page(request: Request) -> Response:
    day = params.parse_date(request.path_params["day"], "tanggal", status=404)
    rev = params.path_id(request, "rev", "Revisi")
    db = request.app.state.db
    found = await run_in_threadpool(_revision, db, day, rev)
    if found is None:
        raise HTTPException(404, f"Laporan {day:%d-%m-%Y} revisi {rev} tidak ada.")
    prev = await run_in_threadpool(_revision, db, day, rev - 1) if rev > 1 else None
    changes = diff_reports(prev[0] if prev else None, found[0])
    return page(request, "report_view.html", {"r": found[0], "day": day, "draft": False, "rev": rev,
                                              "base_rev": prev[1] if prev else None, "changes": changes})
