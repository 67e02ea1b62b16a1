"""The Chinese words the console shows for the hub's codes (statuses, kinds, steps, sources);
a code without a word here is shown as it is."""

from __future__ import annotations

LABELS = {
    # objections
    "received": "待受理", "refused": "不予受理", "accepted": "已受理", "forwarded": "已转交",
    "decided": "已决定", "upheld": "维持", "corrected": "更正", "revoked": "撤销",
    # repairs
    "pending": "待审核", "approved": "已批准", "rejected": "已驳回",
    # steps
    "filed": "提交", "removed": "移除公示",
    # records
    "active": "有效", "disputed": "异议中", "repaired": "已修复", "expired": "已到期",
    "penalty": "行政处罚", "misconduct": "不良行为", "blacklist": "黑名单",
    "commendation": "守信激励",
    # who filed
    "public": "社会公众", "office": "联合办公室", "department": "认定部门",
    # clients
    "consumer": "交易系统", "peer": "其他平台", "admin": "联合办公室",
    # dead letters
    "push": "推送", "pull": "拉取",
}  # fmt: skip


def label(code: str | None) -> str:
    if code is None:
        return "—"
    return LABELS.get(code, code)
