"""What a record or a restriction means, in plain Chinese, from the active rule pack's titles.

Pure functions of the rule pack and a record as the API shows it (`records.read.to_output`):
the pages and the credit report say the same thing the same way.
"""

from __future__ import annotations

from typing import Any

from credithub.rules.pack import RulePack

KINDS = {
    "penalty": "行政处罚",
    "blacklist": "严重失信主体名单",
    "misconduct": "不良行为记录",
    "commendation": "守信激励",
}
SEVERITIES = {"minor": "轻微", "general": "一般", "serious": "严重"}
STATUSES = {
    "active": "有效",
    "disputed": "异议处理中",
    "expired": "已到期",
    "revoked": "已撤销",
    "repaired": "已信用修复",
}
EFFECTS = {"bar": "禁止参与", "caution": "重点关注"}
ID_TYPES = {
    "id_card": "居民身份证",
    "passport": "护照",
    "hk_macao_pass": "港澳居民来往内地通行证",
    "taiwan_pass": "台湾居民来往大陆通行证",
    "residence_permit": "港澳台居民居住证",
    "foreigner_permit": "外国人永久居留身份证",
}


def _yuan(value: Any) -> str:
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return str(value)
    if amount >= 10_000 and amount % 100 == 0:
        return f"{amount / 10_000:g} 万元"
    return f"{amount:,.2f} 元"


def category(record: dict[str, Any], pack: RulePack) -> str:
    """The record's category: the list, the misconduct code or the commendation by name."""
    kind = record["kind"]
    if kind == "blacklist":
        rule = pack.lists.get(record.get("list") or "")
        return rule.title if rule else str(record.get("list") or "")
    if kind == "misconduct":
        code = pack.misconduct.get(record.get("code") or "")
        return code.title if code else str(record.get("code") or "")
    if kind == "commendation":
        found = pack.commendations.get(record.get("code") or "")
        return found.title if found else str(record.get("code") or "")
    categories = "、".join(record.get("categories") or ()) or "行政处罚"
    severity = SEVERITIES.get(record.get("severity") or "", "")
    return f"{categories}({severity}失信行为)" if severity else categories


def meaning(record: dict[str, Any], pack: RulePack) -> str:
    """One sentence: what the decision found, and what it does."""
    kind = record["kind"]
    if kind == "penalty":
        what = record.get("violation") or "违法行为"
        text = f"因“{what}”受到行政处罚:{'、'.join(record.get('categories') or ()) or '处罚'}"
        if record.get("fine_yuan"):
            text += f",罚款 {_yuan(record['fine_yuan'])}"
        return text + "。"
    if kind == "blacklist":
        rule = pack.lists.get(record.get("list") or "")
        title = rule.title if rule else record.get("list")
        text = f"被列入{title}"
        if record.get("reason"):
            text += f",原因:{record['reason']}"
        if rule and rule.measures:
            measures = [pack.measures[m].title for m in rule.measures if m in pack.measures]
            text += f";列入期间:{'、'.join(measures)}"
        return text + "。"
    if kind == "misconduct":
        code = pack.misconduct.get(record.get("code") or "")
        text = f"记录不良行为“{code.title if code else record.get('code')}”"
        if code:
            text += f",记 {code.points} 分"
        if record.get("project"):
            text += f"(项目:{record['project']})"
        return text + "。"
    found = pack.commendations.get(record.get("code") or "")
    return f"获得守信激励“{found.title if found else record.get('code')}”,信用评分加分。"


def domains(codes: Any, pack: RulePack) -> str:
    """Domain codes by their titles, in the pack's order."""
    wanted = set(codes or ())
    return "、".join(d.title for code, d in pack.domains.items() if code in wanted) or "—"


def restriction(item: dict[str, Any], pack: RulePack) -> dict[str, Any]:
    """A restriction (`Restriction.to_dict`) with its effect and domains in words."""
    return {
        **item,
        "effect_title": EFFECTS.get(item["effect"], item["effect"]),
        "domain_titles": domains(item["domains"], pack),
    }


def person(rep: dict[str, Any] | None) -> str | None:
    """A legal representative as shown: name and masked identifier (never the number)."""
    if not rep:
        return None
    text = str(rep.get("name") or "")
    if rep.get("id_number"):
        kind = ID_TYPES.get(rep.get("id_type") or "", "证件")
        text += f"({kind} {rep['id_number']})"
    return text


def record(item: dict[str, Any], pack: RulePack, disputed: bool = False) -> dict[str, Any]:
    """A record as the pages show it: its fields, and its kind, category, meaning and status
    in words; `disputed` also when an objection on it is open."""
    status = "disputed" if disputed else item["status"]
    return {
        **item,
        "kind_title": KINDS.get(item["kind"], item["kind"]),
        "category": category(item, pack),
        "meaning": meaning(item, pack),
        "status_title": STATUSES.get(status, status),
        "disputed": status == "disputed",
        "domain_titles": domains(item.get("domains"), pack),
        "legal_rep": person(item["subject"].get("legal_rep")),
    }
