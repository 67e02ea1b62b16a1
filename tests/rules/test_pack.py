"""The rule pack: the shipped default, the mechanisms that read it, and validation on load."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from credithub.rules.pack import RulePack, RulePackError, load_pack
from credithub.rules.pack_entries import add_months
from credithub.rules.pack_load import SHIPPED, parse_pack

DOMAINS = ["construction", "procurement", "land", "state_assets", "medical", "expert", "agency"]
DEFAULT_TEXT = (SHIPPED / "default.toml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack("default")


def broken(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    """The default pack with `old` replaced by `new` (the first `count` times), as a file."""
    assert old in DEFAULT_TEXT, f"the default pack no longer contains {old!r}"
    path = tmp_path / "broken.toml"
    path.write_text(DEFAULT_TEXT.replace(old, new, count), encoding="utf-8")
    return path


# --- the shipped pack ---------------------------------------------------------------------


def test_default_pack_loads(pack: RulePack) -> None:
    assert pack.id == "default"
    assert pack.version
    assert pack.title
    assert list(pack.domains) == DOMAINS
    assert pack.domains["state_assets"].title == "国有产权交易"
    assert re.fullmatch(r"[0-9a-f]{64}", pack.digest)
    assert pack.source.endswith("default.toml")


def test_every_reference_resolves(pack: RulePack) -> None:
    for measure in pack.measures.values():
        assert set(measure.domains) <= set(pack.domains), measure.code
        assert measure.basis, measure.code
    for rule in pack.lists.values():
        assert rule.measures, rule.code
        assert set(rule.measures) <= set(pack.measures), rule.code
        assert rule.basis, rule.code
    for trigger in pack.triggers:
        assert set(trigger.measures) <= set(pack.measures), trigger.code
        assert set(trigger.categories) <= set(pack.categories), trigger.code
    for code in pack.misconduct.values():
        assert code.domains, code.code
        assert set(code.domains) <= set(pack.domains), code.code
    for threshold in pack.points.thresholds:
        assert threshold.measure in pack.measures
    for commendation in pack.commendations.values():
        assert commendation.basis, commendation.code
        assert commendation.bonus > 0, commendation.code
    for regime in pack.regimes:
        assert set(regime.sectors) <= set(pack.sectors)
    assert set(pack.defaults) == {"penalty", "misconduct", "blacklist", "commendation"}


def test_lists_the_brief_names(pack: RulePack) -> None:
    expected = {
        "ggzy-serious": ("457号", ["construction", "procurement", "land", "state_assets"]),
        "gp-serious": ("526号", ["procurement"]),
        "bidding-ban": ("第五十三条", ["construction"]),
        "expert-disqualified": ("第七十二条", ["expert"]),
        "agency-banned": ("第七十八条", ["agency"]),
        "serious-untrustworthy": ("49号", DOMAINS),
    }
    for code, (basis, domains) in expected.items():
        rule = pack.lists[code]
        assert basis in rule.basis, code
        reached = {d for m in pack.list_measures(code) for d in m.domains}
        assert set(domains) <= reached, code
    assert pack.lists["gp-serious"].default_months == 36
    assert (pack.lists["bidding-ban"].min_months, pack.lists["bidding-ban"].max_months) == (12, 36)
    assert pack.lists["expert-disqualified"].default_months is None  # until removed
    assert pack.list_measures("serious-untrustworthy")[0].effect == "caution"


def test_ggzy_serious_bars_every_trading_domain_while_listed(pack: RulePack) -> None:
    rule = pack.lists["ggzy-serious"]
    assert rule.title == "公共资源交易领域严重失信主体名单"
    assert "发改法规〔2018〕457号" in rule.basis
    assert rule.reaches == ("legal_rep",)
    (measure,) = pack.list_measures("ggzy-serious")
    assert (measure.effect, measure.runs, measure.scope) == ("bar", "while_listed", "all")
    assert all(measure.applies_in(d) for d in DOMAINS)
    assert sorted(measure.domains) == sorted(DOMAINS)


def test_misconduct_codes(pack: RulePack) -> None:
    assert len(pack.misconduct) >= 12
    assert all(re.fullmatch(r"[A-Z][A-Z0-9-]+", c) for c in pack.misconduct)
    covered = {d for m in pack.misconduct.values() for d in m.domains}
    assert {"construction", "procurement", "expert", "agency"} <= covered
    assert pack.misconduct["C-BID-COLLUSION"].title == "串通投标"
    assert pack.misconduct["E-LATE-ABSENT"].forgivable
    assert not pack.misconduct["C-BID-FRAUD"].forgivable
    assert pack.misconduct["C-WAGE-ARREARS"].points > 0


def test_values_from_secondary_sources_are_marked_check(pack: RulePack) -> None:
    marked = [
        pack.severity,
        pack.severity.fines,
        *pack.regimes,
        pack.regimes[1].sectors["market_regulation"],
        pack.measures["agency-bar"],
        pack.measures["untrustworthy-caution"],
        pack.lists["agency-banned"],
        pack.lists["serious-untrustworthy"],
        pack.lists["gp-serious"],
        pack.triggers[0],
        pack.points,
        pack.score,
        *pack.misconduct.values(),
        *pack.commendations.values(),
    ]
    unmarked = [m for m in marked if not (m.check or "to verify" in m.note)]
    assert unmarked == []


# --- severity -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "severity"),
    [
        ("警告", "minor"),
        ("通报批评", "minor"),
        ("罚款", "minor"),
        ("没收违法所得", "general"),
        ("没收非法财物", "general"),
        ("暂扣许可证件", "general"),
        ("降低资质等级", "general"),
        ("吊销许可证件", "serious"),
        ("限制开展生产经营活动", "serious"),
        ("责令停产停业", "serious"),
        ("责令关闭", "serious"),
        ("限制从业", "serious"),
        ("行政拘留", "serious"),
        ("其他", "general"),
    ],
)
def test_each_category_has_its_class(pack: RulePack, category: str, severity: str) -> None:
    assert pack.classify_penalty([category], None) == severity


@pytest.mark.parametrize(
    ("categories", "severity"),
    [
        (["警告", "吊销许可证件"], "serious"),
        (["通报批评", "没收违法所得"], "general"),
        (["罚款", "没收违法所得", "责令关闭"], "serious"),
        (["警告", "通报批评"], "minor"),
    ],
)
def test_most_severe_category_wins(pack: RulePack, categories: list[str], severity: str) -> None:
    assert pack.classify_penalty(categories, None) == severity


@pytest.mark.parametrize(
    ("categories", "fine", "severity"),
    [
        (["罚款"], "2000", "minor"),
        (["罚款"], "49999.99", "minor"),
        (["罚款"], "50000", "general"),
        (["罚款"], "1999999", "general"),
        (["罚款"], "2000000", "serious"),
        (["警告", "罚款"], "2500000", "serious"),
        (["吊销许可证件", "罚款"], "100", "serious"),  # a small fine never lowers the class
        (["暂扣许可证件"], "0", "general"),
    ],
)
def test_fine_thresholds(pack: RulePack, categories: list[str], fine: str, severity: str) -> None:
    assert pack.classify_penalty(categories, Decimal(fine)) == severity


def test_older_wording_and_unknown_categories(pack: RulePack) -> None:
    assert pack.classify_penalty(["暂扣或者吊销许可证、暂扣或者吊销执照"], None) == "general"
    assert pack.normalize_categories([" 没收违法所得、没收非法财物", "没收违法所得"]) == [
        "没收违法所得",
        "没收非法财物",
    ]
    with pytest.raises(ValueError, match="处罚类别 '拘役'"):
        pack.classify_penalty(["拘役"], None)
    with pytest.raises(ValueError, match="negative"):
        pack.classify_penalty(["罚款"], Decimal(-1))


# --- publication --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decided", "severity", "sector", "regime", "published", "min_until", "max_until"),
    [
        ("2023-04-30", "general", None, "ndrc-2019-527", True, "2023-07-30", "2024-04-30"),
        ("2023-04-30", "serious", None, "ndrc-2019-527", True, "2023-10-30", "2026-04-30"),
        ("2023-05-01", "general", None, "ndrc-order-58", True, "2023-08-01", "2026-05-01"),
        ("2023-05-01", "minor", "safety", "ndrc-order-58", True, "2024-05-01", "2026-05-01"),
        ("2024-06-10", "serious", "fire", "ndrc-order-58", True, "2025-06-10", "2027-06-10"),
        ("2025-01-31", "general", "special_equipment", "ndrc-order-58", True, "2026-01-31", None),
        (
            "2024-01-31",
            "minor",
            "market_regulation",
            "ndrc-order-58",
            True,
            "2024-04-30",
            "2024-04-30",
        ),
        ("2026-03-31", "general", None, "ndrc-order-58", True, "2026-06-30", "2029-03-31"),
        ("2026-04-01", "minor", None, "ndrc-order-36", False, "2026-04-01", "2026-07-01"),
        ("2026-04-01", "general", None, "ndrc-order-36", True, "2026-07-01", "2027-04-01"),
        ("2026-04-01", "serious", None, "ndrc-order-36", True, "2027-04-01", "2029-04-01"),
        ("2026-05-31", "general", "safety", "ndrc-order-36", True, "2026-08-31", "2027-05-31"),
    ],
)
def test_publication_periods(
    pack: RulePack,
    decided: str,
    severity: str,
    sector: str | None,
    regime: str,
    published: bool,
    min_until: str,
    max_until: str | None,
) -> None:
    period = pack.publication(date.fromisoformat(decided), severity, sector)
    assert period.regime_id == regime
    assert period.published is published
    assert period.min_until == date.fromisoformat(min_until)
    if max_until is None:
        assert period.max_until == add_months(date.fromisoformat(decided), 36)
    else:
        assert period.max_until == date.fromisoformat(max_until)


def test_publication_names_its_regime_and_refuses_unknowns(pack: RulePack) -> None:
    period = pack.publication(date(2026, 4, 1), "serious")
    assert "令第36号" in period.regime_title
    assert pack.publication(date(2001, 1, 1), "general").regime_id == "ndrc-2019-527"
    assert pack.publication(date(2099, 1, 1), "general").regime_id == "ndrc-order-36"
    with pytest.raises(ValueError, match="sector 'mining'"):
        pack.publication(date(2024, 1, 1), "general", "mining")
    with pytest.raises(ValueError, match="severity class 'grave'"):
        pack.publication(date(2024, 1, 1), "grave")


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        ("2024-01-31", 1, "2024-02-29"),
        ("2023-01-31", 1, "2023-02-28"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2023-11-30", 3, "2024-02-29"),
        ("2024-12-15", 1, "2025-01-15"),
        ("2024-03-31", -1, "2024-02-29"),
        ("2024-05-31", 0, "2024-05-31"),
        ("2023-05-01", 36, "2026-05-01"),
    ],
)
def test_add_months_clamps_to_month_end(start: str, months: int, end: str) -> None:
    assert add_months(date.fromisoformat(start), months) == date.fromisoformat(end)


# --- triggers, domains, points, score --------------------------------------------------


@pytest.mark.parametrize(
    ("categories", "fine", "fires"),
    [
        (["罚款"], "2500000", True),
        (["罚款"], "2000000", True),
        (["罚款"], "1999999.99", False),
        (["罚款"], "10000", False),
        (["吊销许可证件"], None, True),
        (["责令停产停业", "罚款"], "10000", True),
        (["责令关闭"], None, True),
        (["吊销执照"], None, True),  # 2016 wording
        (["警告"], None, False),
    ],
)
def test_gp_major_violation_trigger(
    pack: RulePack, categories: list[str], fine: str | None, fires: bool
) -> None:
    amount = None if fine is None else Decimal(fine)
    found = [t.code for t in pack.triggers_for(categories, amount, ["construction"])]
    assert found == (["gp-major-violation"] if fires else [])


def test_gp_major_violation_bars_procurement_for_36_months(pack: RulePack) -> None:
    (trigger,) = pack.triggers_for(["吊销许可证件"], None)
    (code,) = trigger.measures
    measure = pack.measures[code]
    assert (measure.effect, measure.domains, measure.runs, measure.months) == (
        "bar",
        ("procurement",),
        "months",
        36,
    )
    assert "第十九条" in trigger.basis


def test_trigger_limited_to_penalty_domains(tmp_path: Path) -> None:
    path = broken(tmp_path, 'penalty_domains = "all"', 'penalty_domains = ["procurement"]')
    limited = load_pack(str(path))
    fine = Decimal(3_000_000)
    assert limited.triggers_for(["罚款"], fine, ["construction"]) == []
    assert [t.code for t in limited.triggers_for(["罚款"], fine, ["procurement", "land"])] == [
        "gp-major-violation"
    ]


def test_default_domains(pack: RulePack) -> None:
    assert pack.default_domains("penalty") == DOMAINS
    assert pack.default_domains("commendation") == DOMAINS
    assert pack.default_domains("misconduct", "E-LATE-ABSENT") == ["expert"]
    assert pack.default_domains("misconduct", "C-BID-COLLUSION") == ["construction", "procurement"]
    assert pack.default_domains("blacklist", "gp-serious") == ["procurement"]
    assert pack.default_domains("blacklist", "ggzy-serious") == DOMAINS
    with pytest.raises(ValueError, match="record kind 'fine'"):
        pack.default_domains("fine")
    with pytest.raises(ValueError, match="misconduct code 'X-NONE'"):
        pack.default_domains("misconduct", "X-NONE")


def test_points_thresholds(pack: RulePack) -> None:
    assert pack.points.window_months == 12
    assert pack.points.reached(9) == []
    assert [t.measure for t in pack.points.reached(10)] == ["points-caution"]
    assert [t.measure for t in pack.points.reached(25)] == ["points-caution", "points-bar"]
    caution, bar = (pack.measures[t.measure] for t in pack.points.thresholds)
    assert (caution.effect, caution.runs) == ("caution", "while_points_above")
    assert (bar.effect, bar.runs, bar.months) == ("bar", "months", 6)
    assert bar.applies_in("expert", ["expert"])
    assert not bar.applies_in("land", ["expert"])


def test_score_rules(pack: RulePack) -> None:
    score = pack.score
    assert (score.base, score.minimum, score.maximum) == (100, 0, 100)
    assert score.penalty == {"minor": 2, "general": 8, "serious": 20}
    assert [score.level_for(v) for v in (100, 90, 89.9, 75, 60, 59.9, 0, -5, 120)] == list(
        "AABBCDDDA"
    )
    decided = date(2024, 1, 1)
    assert score.decay_factor(decided, decided) == 1.0
    assert score.decay_factor(decided, add_months(decided, score.decay_months)) == 0.0
    assert 0.49 < score.decay_factor(decided, date(2025, 7, 2)) < 0.51
    assert pack.commendations["tax-a"].title == "纳税信用A级纳税人"


def test_public_view_is_json_and_complete(pack: RulePack) -> None:
    data = json.loads(json.dumps(pack.to_public(), ensure_ascii=False))
    assert data["pack"]["digest"] == pack.digest
    lists = {x["code"]: x for x in data["lists"]}
    assert "457号" in lists["ggzy-serious"]["basis"]
    assert [r["from"] for r in data["publication"]] == [None, "2023-05-01", "2026-04-01"]
    assert data["triggers"][0]["min_fine_yuan"] == 2000000
    assert len(data["misconduct"]) == len(pack.misconduct)


def test_digest_ignores_layout_but_not_values(tmp_path: Path, pack: RulePack) -> None:
    same = tmp_path / "same.toml"
    same.write_text("# a comment\n\n" + DEFAULT_TEXT, encoding="utf-8")
    assert load_pack(str(same)).digest == pack.digest
    changed = broken(tmp_path, "window_months = 12", "window_months = 24")
    assert load_pack(str(changed)).digest != pack.digest


# --- broken packs -------------------------------------------------------------------------

P58 = 'id = "ndrc-order-58"'


BROKEN = [
    # unknown sections and keys
    ("[pack]\n", "[extra]\nx = 1\n\n[pack]\n", "rule pack: unknown section 'extra'"),
    (
        'code = "gp-serious"',
        'code = "gp-serious"\nlisted_by = "x"',
        r"lists\[1\] \(gp-serious\): unknown key 'listed_by'",
    ),
    ("[score.deductions]", "[score.deduction]", "score: unknown key 'deduction'"),
    # missing required keys
    ('version = "2026.1"\n', "", "pack: missing required key 'version'"),
    (
        'runs = "while_listed"\nbasis = "发改法规〔2018〕457号',
        'runs = "while_listed"\nbases = "发改法规〔2018〕457号',
        r"measures\[0\] \(ggzy-bar\): unknown key 'bases'",
    ),
    (
        'code = "ggzy-bar"\ntitle = "限制参与公共资源交易活动"\n',
        'code = "ggzy-bar"\n',
        r"measures\[0\] \(ggzy-bar\): missing required key 'title'",
    ),
    ('commendation = "all"\n', "", "default_domains: missing required record kind 'commendation'"),
    # undefined references
    (
        'measures = ["gp-list-bar"]',
        'measures = ["gp-bar"]',
        r"lists\[1\] \(gp-serious\): measure 'gp-bar' is not defined",
    ),
    (
        'domains = ["procurement"]\nruns = "while_listed"',
        'domains = ["procurment"]\nruns = "while_listed"',
        r"measures\[1\] \(gp-list-bar\): domain 'procurment' is not defined",
    ),
    (
        'measures = ["gp-major-bar"]',
        'measures = ["gp-major"]',
        r"triggers\[0\] \(gp-major-violation\): measure 'gp-major' is not defined",
    ),
    (
        'measure = "points-bar"',
        'measure = "points-ban"',
        r"points.thresholds\[1\]: measure 'points-ban' is not defined",
    ),
    (
        'domains = ["expert"]\nforgivable = true',
        'domains = ["experts"]\nforgivable = true',
        r"misconduct\[10\] \(E-LATE-ABSENT\): domain 'experts' is not defined",
    ),
    (
        'categories = ["责令停产停业", "吊销许可证件", "责令关闭"]',
        'categories = ["吊销执照"]',
        r"triggers\[0\] \(gp-major-violation\): category '吊销执照' is not in",
    ),
    (
        "[publication.sectors.fire]",
        "[publication.sectors.mining]",
        r"publication\[1\] \(ndrc-order-58\).sectors: sector 'mining' is not defined",
    ),
    (
        'misconduct = "by_code"',
        'misconduct = ["construction", "mining"]',
        "default_domains: domain 'mining' is not defined",
    ),
    ('penalty = "all"', 'penalty = "by_code"', "default_domains: 'penalty' must be a list"),
    # unknown severity classes
    (
        '"行政拘留" = "serious"',
        '"行政拘留" = "grave"',
        "severity.categories: '行政拘留': unknown severity class 'grave'",
    ),
    (
        'severity = "serious"\ndefault_months = 36\nmin',
        'severity = "severe"\ndefault_months = 36\nmin',
        r"lists\[1\] \(gp-serious\): 'severity': unknown severity class 'severe'",
    ),
    (
        "minor = { published = false",
        "trivial = { published = false",
        r"publication\[2\] \(ndrc-order-36\).classes: unknown severity class 'trivial'",
    ),
    (
        "penalty = { minor = 2,",
        "penalty = { light = 2,",
        "score.deductions.penalty: unknown severity class 'light'",
    ),
    # regimes
    (
        "from = 2023-05-01",
        "from = 2023-04-15",
        r"publication\[1\] \(ndrc-order-58\): overlaps publication\[0\] \(ndrc-2019-527\)",
    ),
    (
        "from = 2023-05-01",
        "from = 2023-05-03",
        r"publication\[1\] \(ndrc-order-58\): leaves a gap after publication\[0\]",
    ),
    ("until = 2026-03-31", "until = 2026-04-01", r"publication\[2\] \(ndrc-order-36\): overlaps"),
    (
        'id = "ndrc-2019-527"',
        'id = "ndrc-2019-527"\nfrom = 2019-07-01',
        r"publication\[0\] \(ndrc-2019-527\): the first regime must have no 'from'",
    ),
    (
        "from = 2026-04-01",
        "from = 2026-04-01\nuntil = 2030-12-31",
        r"publication\[2\] \(ndrc-order-36\): the last regime must have no 'until'",
    ),
    ("until = 2023-04-30", 'until = "2023-04-30"', "'until' must be a date"),
    (P58, P58.replace("58", "36"), r"publication\[2\] \(ndrc-order-36\): duplicate code"),
    (
        "min_months = 12, max_months = 36 }",
        "min_months = 40, max_months = 36 }",
        r"ndrc-order-36\).classes.serious: min_months 40 is above max_months 36",
    ),
    # negative numbers
    (
        "points = 12",
        "points = -1",
        r"misconduct\[0\] \(C-BID-COLLUSION\): 'points' must not be negative",
    ),
    (
        "general = { min_months = 3, max_months = 12 }",
        "general = { min_months = -3, max_months = 12 }",
        r"ndrc-2019-527\).classes.general: 'min_months' must not be negative",
    ),
    ("months = 36\nbasis", "months = -36\nbasis", r"\(gp-major-bar\): 'months' must be ≥ 1"),
    ("window_months = 12", "window_months = -12", "points: 'window_months' must be ≥ 1"),
    ("blacklist = 30", "blacklist = -30", "score.deductions: 'blacklist' must not be negative"),
    ("bonus = 5", "bonus = -5", r"commendations\[0\] \(red-list\): 'bonus' must not be negative"),
    ("points = 12", 'points = "12"', "'points' must be a whole number"),
    # thresholds and levels
    (
        "min_points = 20",
        "min_points = 10",
        r"points.thresholds\[1\]: thresholds must increase: min_points 10 ≤ 10",
    ),
    (
        "serious_min_yuan = 2000000",
        "serious_min_yuan = 40000",
        "severity.fines: thresholds must increase",
    ),
    ("min_score = 75", "min_score = 95", r"score.levels\[1\]: levels must descend"),
    ("min_score = 0", "min_score = 10", "score: the last of 'levels' must start at min"),
    ('level = "B"', 'level = "A"', r"score.levels\[1\]: duplicate level 'A'"),
    # duplicates
    (
        'code = "gp-serious"',
        'code = "ggzy-serious"',
        r"lists\[1\] \(ggzy-serious\): duplicate code 'ggzy-serious' \(also lists\[0\]",
    ),
    (
        'code = "C-BID-FRAUD"',
        'code = "C-BID-COLLUSION"',
        r"misconduct\[1\] \(C-BID-COLLUSION\): duplicate code",
    ),
    ('"警告" = "minor"', '"警告" = "minor"\n"罚款" = "minor"', "not valid TOML"),
    # measures used where they cannot run
    (
        'runs = "months"\nmonths = 36\n',
        'runs = "months"\n',
        r"measures\[6\] \(gp-major-bar\): missing required key 'months'",
    ),
    (
        'measures = ["gp-list-bar"]',
        'measures = ["points-caution"]',
        "measure 'points-caution' runs while_points_above, which a list cannot use",
    ),
    (
        'measures = ["gp-major-bar"]',
        'measures = ["gp-list-bar"]',
        "measure 'gp-list-bar' runs while_listed, which a trigger cannot use",
    ),
    ('effect = "bar"', 'effect = "ban"', r"\(ggzy-bar\): 'effect': unknown effect 'ban'"),
    ('reaches = ["legal_rep"]', 'reaches = ["shareholder"]', "unknown relation 'shareholder'"),
    ('subjects = ["person"]', 'subjects = ["expert"]', "'subjects' must name subject types"),
    ('decay = "linear"', 'decay = "half-life"', "score: 'decay': unknown decay 'half-life'"),
    (
        "default_months = 12\nmin_months = 12",
        "default_months = 48\nmin_months = 12",
        r"lists\[2\] \(bidding-ban\): default_months 48 is outside",
    ),
    # objection deadlines and repair periods
    ("decide = 5", "decide = 0", r"workflows.deadlines: 'decide' must be ≥ 1"),
    ("remove = 3\n", "", r"workflows.deadlines: missing required step 'remove'"),
    ("forward = 2", "forward = 2\nappeal = 10", r"workflows.deadlines: unknown step 'appeal'"),
    ("ggzy-serious = 12", "ggzy-gold = 12", r"workflows.repair.lists: list 'ggzy-gold' is not"),
    ("misconduct_months = 3", "misconduct_months = -1", r"'misconduct_months' must not be"),
    # TOML syntax
    ("[[lists]]", "[[lists]", "not valid TOML"),
]


@pytest.mark.parametrize(("old", "new", "message"), BROKEN)
def test_broken_pack_is_refused_naming_the_entry(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = broken(tmp_path, old, new)
    with pytest.raises(RulePackError, match=message) as info:
        load_pack(str(path))
    assert str(info.value).startswith(str(path)), "the message names the file"


def test_missing_section_is_refused() -> None:
    data = tomllib.loads(DEFAULT_TEXT)
    del data["score"]
    with pytest.raises(RulePackError, match="rule pack: missing required section 'score'"):
        parse_pack(data)


def test_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match="does not exist"):
        load_pack(str(tmp_path / "nope.toml"))
    with pytest.raises(RulePackError, match="rule pack 'hubei'"):
        load_pack("hubei")
