"""The joint office's console (/admin/): login, the dashboard, and the work pages.

Every page but the login asks for a logged-in console account (anonymous: redirected to the
login); every form carries a CSRF token (`page_blueprint`); no page is cached. Each action goes
through the service the API uses, as the office named after the person, then flashes what was
done and redirects (POST-redirect-GET). A new client token is shown once, on the answer to the
POST that made it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Response, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from credithub import clock
from credithub.console import dashboard as board
from credithub.console import labels, service, work
from credithub.db import db
from credithub.records.prepare import Actor
from credithub.web import page_blueprint
from credithub.workflows.models import Objection, Repair

bp = page_blueprint("console", __name__, url_prefix="/admin")
SESSION_KEY = "console"
OPEN = {"console.login"}  # the only page without a login


def actor() -> Actor:
    return service.actor_of(g.console_user)


def logged_in() -> str | None:
    """The username of this browser's console login, while it lasts, its account exists and
    the account's sessions have not been ended since it began."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("user"), str):
        return None
    try:
        since = datetime.fromisoformat(data["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if clock.now() - since > timedelta(hours=service.settings().session_hours):
        session.pop(SESSION_KEY, None)
        return None
    account = service.find(db.session, data["user"])
    if account is None or data.get("epoch") != account.session_epoch:
        return None  # the account is gone, or its sessions were ended (logout, new password)
    return str(data["user"])


@bp.app_template_filter("console_time")
def console_time(instant: datetime | None) -> str:
    """An instant as the office reads it: China time, to the minute."""
    if instant is None:
        return "—"
    return instant.astimezone(clock.CHINA).strftime("%Y-%m-%d %H:%M")


bp.add_app_template_filter(labels.label, "console_label")


@bp.before_request
def _login_required() -> BaseResponse | None:
    if request.method == "POST":
        db.begin_writing()
    if request.endpoint in OPEN:
        return None
    user = logged_in()
    if user is None:
        return redirect(url_for("console.login", next=request.path))
    g.console_user = user
    return None


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _next(target: str | None) -> str:
    """Where to go after the login: a console page of this hub, else the dashboard."""
    # A path of this hub's console only: never another host, whatever the link carried.
    if target and target.startswith("/admin/") and "\\" not in target:
        return target
    return url_for("console.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | str:
    if request.method == "GET":
        if logged_in():
            return redirect(url_for("console.dashboard"))
        return render_template("console/login.html", next=request.args.get("next", ""))
    username = (request.form.get("username") or "")[:64]
    password = (request.form.get("password") or "")[:1024]
    found = service.login(db.session, username, password)
    if found.account is None:
        flash(found.refusal, "error")
        return redirect(url_for("console.login", next=request.form.get("next") or None))
    session.clear()  # a new session at login: nothing of the anonymous one carries over
    session[SESSION_KEY] = {
        "user": found.account.username,
        "at": clock.now().isoformat(),
        "epoch": found.account.session_epoch,
    }
    flash(f"欢迎,{found.account.username}。")
    return redirect(_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout() -> BaseResponse:
    service.logout(db.session, g.console_user)
    session.clear()
    flash("已退出登录。")
    return redirect(url_for("console.login"))


@bp.route("/")
def dashboard() -> str:
    return render_template("console/dashboard.html", **board.dashboard(db.session, actor()))


@bp.route("/objections")
def objections() -> str:
    status = work.choice(request.args.get("status"), work.OBJECTION_STATUSES, "status")
    page = work.page_number(request.args.get("page"))
    found = work.work_list(db.session, Objection, actor(), status, page)
    return render_template(
        "console/objections.html", found=found, status=status, statuses=work.OBJECTION_STATUSES
    )


@bp.route("/objections/<objection_id>")
def objection(objection_id: str) -> str:
    item = work.objection(db.session, objection_id, actor())
    return render_template("console/objection.html", item=item)


@bp.route("/objections/<objection_id>/<action>", methods=["POST"])
def objection_action(objection_id: str, action: str) -> BaseResponse:
    flash(work.act_on_objection(db.session, objection_id, action, request.form, actor()))
    return redirect(url_for("console.objection", objection_id=objection_id))


@bp.route("/repairs")
def repairs() -> str:
    status = work.choice(request.args.get("status"), work.REPAIR_STATUSES, "status")
    page = work.page_number(request.args.get("page"))
    found = work.work_list(db.session, Repair, actor(), status, page)
    return render_template(
        "console/repairs.html", found=found, status=status, statuses=work.REPAIR_STATUSES
    )


@bp.route("/repairs/<repair_id>/decision", methods=["POST"])
def repair_decision(repair_id: str) -> BaseResponse:
    flash(work.decide_repair(db.session, repair_id, request.form, actor()))
    return redirect(url_for("console.repairs"))


@bp.route("/dead-letters")
def dead_letters() -> str:
    return render_template("console/dead_letters.html", letters=work.dead_letters(db.session))


@bp.route("/dead-letters/<connector>/replay", methods=["POST"])
def replay(connector: str) -> BaseResponse:
    flash(work.replay(db.session, connector, request.form.get("id"), actor()))
    return redirect(url_for("console.dead_letters"))


@bp.route("/clients")
def clients() -> str:
    return render_template("console/clients.html", clients=work.client_list(db.session))


@bp.route("/clients", methods=["POST"])
def create_client() -> str:
    client, token = work.create_client(db.session, request.form, actor())
    return _token_page(client, token, "已创建")


@bp.route("/clients/<client_id>/rotate", methods=["POST"])
def rotate_client(client_id: str) -> str:
    client, token = work.rotate_client(db.session, client_id, request.form, actor())
    return _token_page(client, token, "已更换令牌")


@bp.route("/clients/<client_id>/revoke", methods=["POST"])
def revoke_client(client_id: str) -> BaseResponse:
    client = work.revoke_client(db.session, client_id, request.form, actor())
    flash(f"客户端 {client.name} 已吊销,其令牌即刻失效。")
    return redirect(url_for("console.clients"))


def _token_page(client: Any, token: str, done: str) -> str:
    # The token is on this answer only (not stored, not flashed into the cookie): shown once.
    return render_template("console/token.html", client=client, token=token, done=done)
