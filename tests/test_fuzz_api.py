"""Every operation of the published OpenAPI document, fuzzed by schemathesis with a token of
each client kind (and none): no answer is a server error, and every answer conforms to the
document (its status is documented, its content type and body match the schema).

Generation is derandomized and bounded (the hypothesis profile of tests/conftest.py and the
settings below), so a run is repeatable and quick; the database is the suite's (SQLite, or
PostgreSQL with CREDITHUB_TEST_DATABASE_URL).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.core.failures import FailureGroup
from schemathesis.errors import InvalidSchema

from tests.records.samples import ZHUJIAN, penalty

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]

# Examples per operation and generation mode: 45 operations x 2 modes x 5 client kinds, about
# a minute per kind on a shared CI machine.
EXAMPLES = 4


def _seed(app: Flask, department: dict[str, str]) -> None:
    """A few records stored first, so reads and record operations find something."""
    pushed = app.test_client().post(
        "/api/v1/records",
        json={"records": [penalty(ref=f"fuzz-{n}") for n in range(3)]},
        headers=department,
    )
    assert pushed.status_code == 200, pushed.get_json()


@pytest.mark.parametrize("kind", ["admin", "department", "consumer", "peer", None])
def test_every_operation_answers_within_its_schema(
    app: Flask, make_token: Callable[..., dict[str, str]], kind: str | None
) -> None:
    """Each operation, with valid and invalid input, called with a token of this kind (or
    none): every failure found is reported, operation by operation."""
    department = make_token("department", uscc=ZHUJIAN)
    _seed(app, department)
    if kind is None:
        headers: dict[str, str] = {}
    else:
        headers = department if kind == "department" else make_token(kind)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck))
            def call(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                call()
            except Unsatisfiable:
                continue  # nothing to make invalid (an operation without input)
            except (AssertionError, FailureGroup, InvalidSchema) as exc:  # all, not the first
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert operations >= 40  # the whole document, not a part of it
    assert not failures, "\n\n".join(failures)
