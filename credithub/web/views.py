"""The public pages: search (`/`), a subject's profile (`/entities/<uscc>`) with the forms to
file an objection (异议) and to apply for credit repair (信用修复), the printable credit report
(`/entities/<uscc>/report`) and its verification (`/reports/<number>`).

What the public sees is api.md "Visibility" (`credithub.public.service`); the forms post to
the same services as `POST /api/v1/public/objections` and `/api/v1/public/repairs`, through
the same schemas. Each form error re-renders the profile with the messages and what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError
from sqlalchemy.orm import Session

from credithub.clock import CHINA
from credithub.db import db
from credithub.entities.identifiers import IdentifierError, normalize, parse_uscc
from credithub.entities.service import uscc_allow_list
from credithub.errors import NotFound, ServiceError
from credithub.reports import service as reports
from credithub.rules import active_pack
from credithub.web import charts, explain, page_blueprint, service
from credithub.web import report as report_sections
from credithub.workflows import objections, repairs
from credithub.workflows.models import Objection, Repair
from schemas.common import MAX_PAGE
from schemas.workflows import PublicObjectionSchema, PublicRepairSchema

bp = page_blueprint("pages", __name__)

FIELDS = {
    "record_id": "记录",
    "applicant": "申请人",
    "reason": "异议理由",
    "contact": "联系方式",
    "phone": "联系电话",
    "email": "电子邮箱",
    "commitment": "信用承诺",
    "evidence": "履行义务的证明",
    "eligible_on": "可申请日期",
}


@bp.app_template_filter("china_time")
def china_time(value: datetime | str | None) -> str:
    """An instant (or its ISO text) as Beijing time to the second; "—" for none."""
    if not value:
        return "—"
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{at.astimezone(CHINA):%Y-%m-%d %H:%M:%S}(北京时间)"


# The schemas' and services' messages a form shows most, in the page's language.
MESSAGES = {
    "Missing data for required field.": "必填",
    "Not a valid email address.": "格式不正确",
    "give a phone number or an email address": "请填写联系电话或电子邮箱",
    "the record is already disputed": "该记录已有异议在处理中",
    "a repair of this record is pending already": "该记录已有信用修复申请在审核中",
    "a public credit commitment (信用承诺) is required: true": "须勾选信用承诺",
}


def _say(message: str) -> str:
    if message.startswith("Length must be"):
        return "长度不符合要求"
    return MESSAGES.get(message, message)


def _code(uscc: str) -> str:
    """The USCC in the path, normalized; a malformed one is a 404 page like an unknown one."""
    try:
        return parse_uscc(uscc, uscc_allow_list())[0].code
    except IdentifierError:
        raise NotFound(f"“{uscc}”不是有效的统一社会信用代码") from None


@bp.get("/")
def search() -> Any:
    """Search by name (former names too) or USCC; a USCC that finds its subject opens it."""
    q = " ".join(request.args.get("q", "").split())[:100]
    try:
        page = min(max(1, int(request.args.get("page", "1"))), MAX_PAGE)
    except ValueError:
        page = 1
    found = service.search(db.session, q, page) if q else None
    if found and found["total"] == 1 and found["items"][0]["uscc"] == normalize(q):
        return redirect(url_for("pages.profile", uscc=found["items"][0]["uscc"]))
    return render_template("public/search.html", q=q, found=found, id_types=explain.ID_TYPES)


def _profile_page(code: str, forms: dict[str, Any] | None = None) -> tuple[str, int]:
    page = service.profile(db.session, code)
    pack = active_pack()
    chart = charts.score_history(page["history"], pack.score.minimum, pack.score.maximum)
    forms = {"objection": {}, "repair": {}, **(forms or {})}
    return render_template("public/profile.html", p=page, chart=chart, forms=forms), 200


@bp.get("/entities/<uscc>")
def profile(uscc: str) -> Any:
    return _profile_page(_code(uscc))


def _messages(errors: dict[str, Any], prefix: str = "") -> list[str]:
    """Field errors as lines "字段:message"; nested ones (contact.phone) by their own name."""
    lines: list[str] = []
    for field, problems in errors.items():
        if isinstance(problems, dict):
            lines += _messages(problems, prefix=field)
            continue
        label = FIELDS.get(field, FIELDS.get(prefix, field))
        for problem in problems if isinstance(problems, list) else [problems]:
            lines.append(f"{label}:{_say(str(problem))}")
    return lines


def _body(schema: Schema, form: dict[str, str], fields: tuple[str, ...]) -> dict[str, Any]:
    """The API's body from a form: its fields, the contact nested, a checkbox as a boolean."""
    body: dict[str, Any] = {k: form[k].strip() for k in fields if form.get(k, "").strip()}
    contact = {k: form[k].strip() for k in ("phone", "email") if form.get(k, "").strip()}
    body["contact"] = contact
    if "commitment" in schema.fields:
        body["commitment"] = form.get("commitment") == "yes"
    loaded: dict[str, Any] = schema.load(body)
    return loaded


def _file(
    code: str,
    which: str,
    schema: Schema,
    fields: tuple[str, ...],
    filing: Callable[[Session, dict[str, Any]], Objection | Repair],
) -> Any:
    """Load the form through the API's schema and file it: the filing, or (on an error) the
    profile again with the messages and what was typed, as a `Response`."""
    form = request.form.to_dict()
    try:
        body = _body(schema, form, fields)
        service.check_record_of(db.session, body["record_id"], code)
        db.begin_writing()
        return filing(db.session, body)
    except ValidationError as exc:
        errors, status = _messages(dict(exc.messages)), 422  # type: ignore[arg-type]
    except ServiceError as exc:
        if exc.status == 404 and "record_id" not in exc.errors:
            raise
        eligible = exc.errors.get("eligible_on")
        if eligible:
            errors = [f"该记录自 {eligible[0]} 起方可申请信用修复(最短公示期未满)。"]
            errors += _messages({k: v for k, v in exc.errors.items() if k == "commitment"})
        else:
            errors = [_say(exc.message), *_messages(exc.errors)]
        status = exc.status
    form.pop("csrf_token", None)
    html, _ = _profile_page(code, {which: {"values": form, "errors": errors}})
    return Response(html, status)


@bp.post("/entities/<uscc>/objections")
def file_objection(uscc: str) -> Any:
    code = _code(uscc)
    fields = ("record_id", "applicant", "reason")
    item = _file(code, "objection", PublicObjectionSchema(), fields, objections.file_public)
    if isinstance(item, Response):
        return item
    flash(f"异议已提交,编号 {item.id};联合办公室将在 {item.due_on.isoformat()} 前决定是否受理。")
    return redirect(url_for("pages.profile", uscc=code))


@bp.post("/entities/<uscc>/repairs")
def apply_repair(uscc: str) -> Any:
    code = _code(uscc)
    fields = ("record_id", "applicant", "evidence")
    item = _file(code, "repair", PublicRepairSchema(), fields, repairs.apply_public)
    if isinstance(item, Response):
        return item
    flash(f"信用修复申请已提交,编号 {item.id};认定部门将在 {item.due_on.isoformat()} 前作出决定。")
    return redirect(url_for("pages.profile", uscc=code))


@bp.get("/entities/<uscc>/report")
def report(uscc: str) -> Any:
    """Issue a credit report: numbered, its digest kept for verification."""
    page = service.profile(db.session, _code(uscc))
    db.begin_writing()
    issued = reports.issue(db.session, page["uscc"], report_sections.sections(db.session, page))
    verify = url_for(
        "pages.verify_report", number=issued["number"], digest=issued["digest"], _external=True
    )
    html = render_template("public/report.html", r=issued, s=issued["sections"], verify=verify)
    response = Response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/reports/<number>")
def verify_report(number: str) -> Any:
    """Whether this hub issued report `number`, and whether the digest given matches."""
    digest = request.args.get("digest", "")[:200]
    found = reports.verify(db.session, number[:40], digest)
    html = render_template("public/verify.html", v=found, digest=digest)
    return html, 200 if found["issued"] else 404
