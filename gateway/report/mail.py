"""Mailing a filed report: its PDF to ``report.email.to`` over SMTP (smtplib).

One message per filed revision: subject "Laporan Situasi Harian <kabupaten> <tanggal> (revisi N)",
a short Indonesian plain-text body with the summary, and the PDF attached as
``laporan-situasi-YYYY-MM-DD-rN.pdf``. ``report.email.smtp_tls``: ``starttls`` requires the
server to offer STARTTLS (else nothing is sent, not even the login: :class:`MailError`), ``tls``
speaks TLS from the first byte, ``none`` is clear text (config validation allows it only without a
login); certificates are verified. The client logs in when ``smtp_user`` is set. Every failure --
server unreachable or silent (``TIMEOUT_S`` per step, short so that a stalled server cannot hold up
shutdown), TLS, login refused, recipient or message rejected -- is one :class:`MailError` line
naming the server; gateway.report.delivery stores it and tries again later. :func:`send_text`
sends the gateway alerts (gateway/alerts.py) the same way, to their own recipients.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from gateway.config import EmailConfig
from gateway.report.document import Report, as_report
from gateway.report.view import date_text, incident_text, view

ReportLike = Report | Mapping[str, Any]  # a report, or a filed revision's stored JSON

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0
MAX_LISTED_INCIDENTS = 20


class MailError(RuntimeError):
    """The report could not be mailed (one line, naming the SMTP server)."""


def attachment_name(report: ReportLike) -> str:
    r = as_report(report)
    rev = r.revision
    return f"laporan-situasi-{r.date}-{f'r{rev}' if rev is not None else 'draf'}.pdf"


def subject(report: ReportLike) -> str:
    r = as_report(report)
    rev = r.revision
    day = date_text(date.fromisoformat(r.date))
    return (f"Laporan Situasi Harian {r.kabupaten} {day} "
            f"({f'revisi {rev}' if rev is not None else 'draf'})")


def body(report: ReportLike) -> str:
    """The plain-text body: what is attached and the summary, in Indonesian."""
    r = as_report(report)
    v = view(r)
    lines = ["Yth. Bapak/Ibu,", "",
             f"Terlampir Laporan Situasi Harian Kabupaten {r.kabupaten}, {v.date_long}.",
             *(f"{label}: {text}" for label, text in v.meta), "", "Ringkasan:", f"- {v.headline}",
             *(f"- {label}: {text}" for label, text in v.summary)]
    incidents = r.incidents
    if incidents:
        lines += ["", "Kejadian:"]
        lines += [f"{n}. Kec. {inc.station} — {incident_text(inc)}"
                  for n, inc in enumerate(incidents[:MAX_LISTED_INCIDENTS], 1)]
        if len(incidents) > MAX_LISTED_INCIDENTS:
            lines.append(f"... dan {len(incidents) - MAX_LISTED_INCIDENTS} kejadian lain (lihat lampiran).")
    lines += ["", "Rincian per kecamatan, kutipan ucapan dan rekamannya ada di lampiran PDF.",
              "Pesan ini dikirim otomatis oleh ht-gateway; mohon tidak dibalas.", ""]
    return "\n".join(lines)


def build_message(cfg: EmailConfig, report: ReportLike, pdf: bytes, now: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject(report)
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.to)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid("laporan", domain=cfg.sender.rpartition("@")[2] or None)
    msg.set_content(body(report))
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=attachment_name(report))
    return msg


def _reply(code: int, text: bytes | str) -> str:
    """An SMTP reply on one line: "535 5.7.8 Authentication credentials invalid"."""
    words = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return " ".join(f"{code} {words}".split())


def _why(e: BaseException, cfg: EmailConfig) -> str:
    if isinstance(e, smtplib.SMTPAuthenticationError):
        return f"login as {cfg.smtp_user!r} refused ({_reply(e.smtp_code, e.smtp_error)})"
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        return "recipients refused: " + ", ".join(f"{rcpt} ({_reply(*reply)})"
                                                  for rcpt, reply in e.recipients.items())
    if isinstance(e, smtplib.SMTPSenderRefused):
        return f"sender {e.sender!r} refused ({_reply(e.smtp_code, e.smtp_error)})"
    if isinstance(e, smtplib.SMTPResponseException):
        return f"server answered {_reply(e.smtp_code, e.smtp_error)}"
    if isinstance(e, smtplib.SMTPServerDisconnected) and "timed out" in str(e):  # a silent server
        return f"no answer within {TIMEOUT_S:g} s"
    if isinstance(e, smtplib.SMTPNotSupportedError):
        return f"not supported by the server: {' '.join(str(e).split())}"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, TimeoutError):
        return f"no answer within {TIMEOUT_S:g} s"
    if isinstance(e, ssl.SSLError | ssl.CertificateError):
        return f"TLS failed: {' '.join(str(e).split())}"
    return f"{type(e).__name__}: {' '.join(str(e).split()) or 'no details'}"


def send_report(cfg: EmailConfig, report: ReportLike, pdf: bytes, now: datetime) -> None:
    """Mail the filed report's PDF to ``cfg.to``; raise :class:`MailError` on any failure."""
    where = f"{cfg.smtp_host}:{cfg.smtp_port}"
    if not cfg.to or not cfg.sender or not cfg.smtp_host:
        raise MailError(f"cannot mail the report via {where}: report.email needs to, sender and smtp_host")
    send_message(cfg, build_message(cfg, report, pdf, now), cfg.to, "the report")
    log.info("report %s revision %s mailed to %s via %s", as_report(report).date, as_report(report).revision,
             ", ".join(cfg.to), where)


def send_text(cfg: EmailConfig, to: tuple[str, ...], subject_line: str, text: str, now: datetime,
              what: str = "an alert") -> None:
    """A plain-text mail (the gateway alerts, gateway/alerts.py) over ``cfg``'s SMTP server."""
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject_line, cfg.sender, ", ".join(to)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid("peringatan", domain=cfg.sender.rpartition("@")[2] or None)
    msg.set_content(text)
    send_message(cfg, msg, to, what)


def send_message(cfg: EmailConfig, msg: EmailMessage, to: tuple[str, ...], what: str) -> None:
    """Send ``msg`` to ``to`` as ``cfg`` says (TLS, login); raise :class:`MailError` on any failure."""
    where = f"{cfg.smtp_host}:{cfg.smtp_port}"
    if not to or not cfg.sender or not cfg.smtp_host:
        raise MailError(f"cannot mail {what} via {where}: recipients, report.email.sender and smtp_host "
                        "are needed")
    if cfg.smtp_tls == "none" and (cfg.smtp_user or cfg.smtp_password):  # config validation says so too
        raise MailError(f"cannot mail {what} via {where}: a login without TLS is refused")
    try:
        if cfg.smtp_tls == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(cfg.smtp_host, cfg.smtp_port, timeout=TIMEOUT_S,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=TIMEOUT_S)
        with client as smtp:
            smtp.ehlo()
            if cfg.smtp_tls == "starttls":
                if not smtp.has_extn("starttls"):
                    raise MailError(f"cannot mail {what} via {where}: the server does not offer "
                                    "STARTTLS (report.email.smtp_tls = 'starttls'); nothing was sent")
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if cfg.smtp_user:
                smtp.login(cfg.smtp_user, cfg.smtp_password)
            refused = smtp.send_message(msg, from_addr=cfg.sender, to_addrs=list(to))
    except (smtplib.SMTPException, OSError) as e:
        raise MailError(f"cannot mail {what} via {where}: {_why(e, cfg)}") from e
    if refused:  # accepted for some recipients only
        raise MailError(f"{what[:1].upper()}{what[1:]} mailed via {where}, but recipients refused: "
                        + ", ".join(f"{rcpt} ({_reply(*reply)})" for rcpt, reply in refused.items()))
