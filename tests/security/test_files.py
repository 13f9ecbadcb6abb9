"""Item 12: what Jalon writes to disk is owner-only, whatever the process umask says.

The SQLite database holds the tool's private signing key and every learner's results.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from lti_tool import create_app
from lti_tool.cli import main
from lti_tool.config import Settings
from lti_tool.demo import DemoServices, InProcessKeySets
from lti_tool.frameworks import install_bundled
from lti_tool.lti import keys


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, which leaves new files readable by every account."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_item12_sqlite_database_wal_and_instance_folder_are_owner_only(
    tmp_path: Path, umask_022: None
) -> None:
    instance = tmp_path / "srv" / "instance"
    env = {"JALON_INSTANCE_PATH": str(instance), "JALON_SECRET_KEY": "s" * 32}
    upgraded = CliRunner(env=env).invoke(main, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    database = instance / "jalon.db"
    assert _mode(instance) == 0o700
    assert _mode(database) == 0o600

    app = create_app(Settings.from_env(env))
    engine: sa.Engine = app.extensions["jalon.db"].engine
    with engine.connect() as held:
        # An open connection keeps the write-ahead log and its index on disk.
        held.execute(sa.text("SELECT 1"))
        with app.extensions["jalon.db"].session() as session:
            install_bundled(session)
            keys.current(session)  # the tool's private key, stored in the database
        wal, shm = Path(f"{database}-wal"), Path(f"{database}-shm")
        assert wal.exists()
        assert shm.exists()
        assert _mode(wal) == 0o600
        assert _mode(shm) == 0o600
    engine.dispose()
    assert _mode(database) == 0o600


def test_item12_demo_secrets_key_and_database_are_owner_only(
    tmp_path: Path, umask_022: None
) -> None:
    instance = tmp_path / "demo-instance"
    settings = Settings.from_env(
        {"JALON_INSTANCE_PATH": str(instance), "JALON_DATABASE_URL": f"sqlite:///{tmp_path}/j.db"},
        demo=True,
    )
    assert _mode(instance) == 0o700
    assert _mode(instance / "secret_key") == 0o600
    assert _mode(instance / "admin_token") == 0o600

    app = create_app(settings, demo=DemoServices(key_sets=InProcessKeySets()))
    for name in ("demo-lms.db", "demo-lms-key.pem"):
        assert _mode(instance / name) == 0o600, name
    app.extensions["jalon.demo"].database.engine.dispose()
    app.extensions["jalon.db"].engine.dispose()
