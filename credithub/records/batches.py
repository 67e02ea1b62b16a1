"""An import's batches: a file's rows grouped by the subjects and decisions they name.

Real files name a subject several times, spread through the file (a company fined in March and
again in July). Written in file order, each batch would find, rescore and rename the same
subject again; grouped, a subject's rows are written together, and its standing is computed
once for them.

Grouping must not change what the import stores. Two rows can affect each other only through
what they share: the same decision (its natural key holds its document number), the same
subject or legal representative (names and codes a subject gains, a conflict between codes).
Rows sharing any identifying cell — a document number, a USCC or the organization code inside
one, an ID number, a legacy code — are therefore put in one group, transitively, and a group's
rows keep their file order. Groups follow each other in the order they first appear. Codes are
compared coarsely (full-width folded, spaces, hyphens and case ignored): a coarse match only
joins more rows, never fewer. A group larger than a batch is cut in file order.

`ingest.group_by_subject` (docs/performance.md) turns this off: batches in file order.
"""

from __future__ import annotations

from collections.abc import Sequence

from credithub.entities.identifiers import normalize

# The 双公示 codes whose cells identify a decision (the first: compared as sent, as the natural
# key holds the document number), and a subject or its legal representative (compared coarsely).
IDENTIFYING = (
    "CF_WSH",
    "CF_XDR_SHXYM",
    "CF_XDR_GSZC",
    "CF_XDR_ZZJG",
    "CF_XDR_SWDJ",
    "CF_XDR_SYDW",
    "CF_XDR_SHZZ",
    "CF_XDR_ZJHM",
    "CF_FR_ZJHM",
)


def in_file_order(count: int, size: int) -> list[list[int]]:
    """Positions 0..count-1 in batches of `size`."""
    return [list(range(start, min(start + size, count))) for start in range(0, count, size)]


def grouped(cells: Sequence[Sequence[str]], size: int) -> list[list[int]]:
    """Row positions in batches of at most `size`: rows sharing a cell of `IDENTIFYING` (`cells`:
    each row's, "" where empty) in one group, in file order; groups in order of first
    appearance, a batch ending where a group ends unless the group is larger than a batch."""
    parent = list(range(len(cells)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    refs_seen: dict[str, int] = {}  # each decision's cell -> the first row that holds it
    codes_seen: dict[str, int] = {}  # each identifier's key -> the first row that holds it
    keys: dict[str, tuple[str, ...]] = {}  # each identifier -> its keys (it repeats)
    for row, line in enumerate(cells):
        ref = line[0]
        held = [refs_seen.setdefault(ref, row)] if ref else []
        for code in [code for code in line[1:] if code]:
            found = keys.get(code)
            if found is None:
                found = keys[code] = _keys(code)
            held.extend(codes_seen.setdefault(key, row) for key in found)
        mine = row
        for seen in held:
            if seen != row:
                other = root(seen)
                if other != mine:  # the root is a group's first row
                    parent[max(other, mine)] = mine = min(other, mine)
    groups: dict[int, list[int]] = {}
    for row in range(len(cells)):
        groups.setdefault(root(row), []).append(row)
    batches: list[list[int]] = []
    current: list[int] = []
    for group in groups.values():
        if current and len(current) + len(group) > size:
            batches.append(current)
            current = []
        while len(group) > size:
            batches.append(group[:size])
            group = group[size:]
        current.extend(group)
    if current:
        batches.append(current)
    return batches


def _keys(value: str) -> tuple[str, ...]:
    key = normalize(value).replace("-", "")
    if len(key) == 18:  # a USCC: the organization code inside it too
        return (key, key[8:17])
    return (key,) if key else ()
