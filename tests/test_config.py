"""Configuration: defaults ← TOML file ← CREDITHUB_* variables; unknown keys stop start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from credithub.config import ConfigError, ensure_instance_secrets, load_settings
from credithub.db import make_engine


def write(tmp_path: Path, body: str) -> str:
    path = tmp_path / "c.toml"
    path.write_text(body, encoding="utf-8")
    return str(path)


def test_defaults_need_no_configuration(tmp_path: Path) -> None:
    s = load_settings(environ={"CREDITHUB_INSTANCE": str(tmp_path)})
    assert s.database_url == f"sqlite:///{(tmp_path / 'credithub.db').resolve()}"
    assert s.hub.id == "local"
    assert s.server.port == 8080


def test_file_then_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[hub]\nid = "hlbe"\nname = "呼伦贝尔"\n[server]\nport = 9000\n')
    s = load_settings(
        environ={
            "CREDITHUB_CONFIG": path,
            "CREDITHUB_SERVER_PORT": "9100",
            "CREDITHUB_DATABASE_URL": "postgresql://x@h/db",
        }
    )
    assert (s.hub.id, s.hub.name) == ("hlbe", "呼伦贝尔")
    assert s.server.port == 9100
    assert s.database_url == "postgresql://x@h/db"


def test_file_with_only_the_documented_keys_works(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[hub]
id = "hlbe"
name = "呼伦贝尔市公共信用信息共享平台"

[[connectors]]
name = "province"
type = "hub"
url = "http://127.0.0.1:8102"
token = "t"
push = true
pull = true
interval_seconds = 60
""",
    )
    s = load_settings(environ={"CREDITHUB_CONFIG": path})
    assert s.connectors[0]["name"] == "province"


@pytest.mark.parametrize(
    ("body", "env", "named"),
    [
        ("[hub]\nidd = 'x'\n", {}, "hub.idd"),
        ("[hubb]\nid = 'x'\n", {}, "hubb"),
        ("", {"CREDITHUB_SERVER_PROT": "1"}, "CREDITHUB_SERVER_PROT"),
        ("", {"CREDITHUB_NOPE": "1"}, "CREDITHUB_NOPE"),
        ("[server]\nport = 'eighty'\n", {}, "server.port"),
        ("", {"CREDITHUB_SERVER_WORKERS": "two"}, "server.workers"),
        ("[security]\ndata_key = 'c2hvcnQ='\n", {}, "security.data_key"),
        ("[hub]\nid = 'a b'\n", {}, "hub.id"),
        ("[federation]\nsigning_key = 'c2hvcnQ='\n", {}, "federation.signing_key"),
        ("[federation.keys]\ncity-a = ['c2hvcnQ=']\n", {}, "federation.keys.city-a"),
        ("[federation]\nkeys = { city-a = 'x' }\n", {}, "federation.keys"),
    ],
)
def test_bad_keys_and_values_are_named(
    tmp_path: Path, body: str, env: dict[str, str], named: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_settings(environ={"CREDITHUB_CONFIG": path, **env})


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(environ={"CREDITHUB_CONFIG": str(tmp_path / "none.toml")})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(environ={"CREDITHUB_CONFIG": write(tmp_path, "[hub\n")})


def test_example_configuration_loads() -> None:
    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    s = load_settings(environ={"CREDITHUB_CONFIG": str(example)})
    assert s.hub.id


def test_generated_secrets_are_stable_and_private(tmp_path: Path) -> None:
    s1 = load_settings(environ={"CREDITHUB_INSTANCE": str(tmp_path)})
    ensure_instance_secrets(s1)
    s2 = load_settings(environ={"CREDITHUB_INSTANCE": str(tmp_path)})
    ensure_instance_secrets(s2)
    assert s1.security.data_key == s2.security.data_key != s1.security.lookup_key
    # The signing key too: a hub keeps its identity across restarts.
    assert s1.federation.signing_key == s2.federation.signing_key != s1.security.data_key
    assert (tmp_path / "secrets.toml").stat().st_mode & 0o077 == 0


def test_the_instance_folder_and_a_new_sqlite_database_are_their_owners_only(
    tmp_path: Path,
) -> None:
    instance = tmp_path / "instance"
    settings = load_settings(environ={"CREDITHUB_INSTANCE": str(instance)})
    ensure_instance_secrets(settings)
    assert instance.stat().st_mode & 0o777 == 0o700
    assert (instance / "secrets.toml").stat().st_mode & 0o777 == 0o600
    path = instance / "credithub.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # a write: through the write-ahead log, kept while connected
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    modes = {p.name: p.stat().st_mode & 0o777 for p in instance.glob("credithub.db*")}
    engine.dispose()
    # SQLite gives the log and shared-memory files the database file's mode.
    assert modes == {"credithub.db": 0o600, "credithub.db-wal": 0o600, "credithub.db-shm": 0o600}
