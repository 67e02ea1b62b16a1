"""Reading the pack's `[workflows]` section: objection deadlines and repair periods."""

from __future__ import annotations

from collections.abc import Mapping

from credithub.rules import pack as rp
from credithub.rules import pack_entries as pe
from credithub.rules.toml_table import Table

_KEYS = ("title", "basis", "deadlines", "repair", "check", "note")
_REPAIR = ("minor_at_once", "list_months", "misconduct_months", "lists", "check", "note")


def workflows(root: Table, lists: Mapping[str, pe.ListRule]) -> pe.Workflows:
    """`[workflows]`: every step's deadline (whole working days, at least 1) and the minimum
    periods before a repair; `[workflows.repair.lists]` names only defined lists."""
    t = root.table("workflows", _KEYS)
    d = t.table("deadlines", rp.WORKFLOW_STEPS, what="step")
    deadlines = {step: d.count(step, 1) for step in rp.WORKFLOW_STEPS}
    r = t.table("repair", _REPAIR)
    by_list = r.mapping("lists", required=False)
    for code in by_list.data:
        if code not in lists:
            by_list.fail(f"list '{code}' is not defined")
    marks = t.marks()
    repair_marks = r.marks()
    note = "; ".join(n for n in (marks["note"], repair_marks["note"]) if n)
    return pe.Workflows(
        title=t.text("title"),
        basis=t.text("basis"),
        deadlines=deadlines,
        repair_minor_at_once=r.flag("minor_at_once"),
        repair_list_months={code: by_list.count(code) for code in by_list.data},
        repair_other_list_months=r.count("list_months"),
        repair_misconduct_months=r.count("misconduct_months"),
        check=marks["check"] or repair_marks["check"],
        note=note,
    )
