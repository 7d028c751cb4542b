"""Shared fixtures: databases to run the storage tests on (SQLite always, PostgreSQL when
the machine has it), each created empty for the test and dropped after."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from tests.e2e import prestart

POSTGRES_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def _postgres_reachable() -> str:
    """Empty string when reachable, else the reason."""
    try:
        import psycopg2

        psycopg2.connect(
            host="127.0.0.1", port=5432, user="postgres", dbname="test", connect_timeout=3
        ).close()
        return ""
    except Exception as error:  # noqa: BLE001 - any failure means "skip, and say why"
        return f"PostgreSQL not reachable on 127.0.0.1:5432 ({type(error).__name__}: {error})"


@pytest.fixture(scope="session")
def postgres_unavailable() -> str:
    return _postgres_reachable()


@pytest.fixture
def postgres_url(postgres_unavailable: str) -> Iterator[str]:
    """A fresh PostgreSQL database, dropped after the test."""
    if postgres_unavailable:
        pytest.skip(postgres_unavailable)
    from sqlalchemy import create_engine, text

    from bot.storage.engine import drop_databases

    name = f"leadbot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.dispose()
        drop_databases(POSTGRES_ADMIN_URL, [name])


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'leadbot.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL, migrated to the newest schema."""
    from bot.storage.migrate import upgrade

    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    upgrade(url)
    return url


def _stop_stack_and_sinks(running) -> None:
    from tests.e2e.stack import stop_stack

    if running.process.poll() is None:
        stop_stack(running)
    for sink in ("mail", "slack"):
        if getattr(running, sink, None) is not None:
            getattr(running, sink).stop()
    if getattr(running, "crm_server", None) is not None:
        running.crm_server.shutdown()
        running.crm_server.server_close()


def _require_model() -> None:
    from bot.config.settings import Settings
    from bot.runtime.model import current_model

    if current_model(Settings.from_env().model_dir) is None:
        pytest.fail("no trained model for the current data: run `make train` (make test does)")


@prestart.register("stack", _stop_stack_and_sinks, ahead=None)
def _prepare_stack(tmp_path_factory: pytest.TempPathFactory):
    from tests.crm.receiver import start_receiver
    from tests.e2e.mail import MailSink
    from tests.e2e.stack import free_port, local_smtp, start_stack

    _require_model()
    folder = tmp_path_factory.mktemp("stack")
    mail = MailSink(free_port()).start()
    # A CRM webhook receiver that verifies every event with the README's snippet.
    crm, crm_server = start_receiver("e2e-webhook-secret-0123456789", free_port())

    def start():
        try:
            running = start_stack(
                folder,
                {
                    # The worker delivers to a real SMTP server, quickly, and nurture starts
                    # at once.
                    **local_smtp(mail.port),
                    "NURTURE_FILE": str(Path(__file__).parent / "e2e" / "nurture_now.yml"),
                    "INBOX_TOKEN": "e2e-inbox-token",
                    "CRM_WEBHOOK_URL": crm.url,
                    "WEBHOOK_SECRET": crm.secret,
                },
            )
        except BaseException:
            mail.stop()
            crm_server.shutdown()
            crm_server.server_close()
            raise
        running.mail = mail
        running.crm = crm
        running.crm_server = crm_server  # type: ignore[attr-defined]
        return running

    return start


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory):
    """The real stack (tests/e2e/stack.py), started once for the end-to-end and browser tests
    (started ahead, as the first test begins: tests/e2e/prestart.py)."""
    running = prestart.take("stack", tmp_path_factory)
    yield running
    prestart.stop_later(_stop_stack_and_sinks, running)  # the stacks stop side by side


HANDOFF_WAIT_SECONDS = 15
HANDOFF_REP_PASSWORD = "correct horse battery staple"


def handoff_reps_file(folder: Path) -> Path:
    """Reps for the handoff stack: Hana works around the clock (the default segment); Olaf,
    for visitors in Antarctica/ zones, only on a weekday three days from today, so never now."""
    from datetime import datetime, timezone

    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    never_today = days[(datetime.now(timezone.utc).weekday() + 3) % 7]
    always = "\n".join(f'      {day}: "00:00-24:00"' for day in days)
    path = folder / "reps.yml"
    path.write_text(
        f"""reps:
  - name: Hana Always
    email: hana@example.com
    timezone: UTC
    working_hours:
{always}
  - name: Olaf Offline
    email: olaf@example.com
    timezone: UTC
    working_hours:
      {never_today}: "09:00-10:00"
segments:
  - id: closed
    when: {{timezone_prefixes: ["Antarctica/"]}}
    reps: [olaf@example.com]
  - id: default
    reps: [hana@example.com]
default_segment: default
"""
    )
    return path


@prestart.register("handoff_stack", _stop_stack_and_sinks)
def _prepare_handoff_stack(tmp_path_factory: pytest.TempPathFactory):
    from tests.e2e.mail import MailSink
    from tests.e2e.slack import SlackReceiver
    from tests.e2e.stack import free_port, local_smtp, set_rep_password, start_stack

    _require_model()
    folder = tmp_path_factory.mktemp("handoff-stack")
    mail = MailSink(free_port()).start()
    slack = SlackReceiver().start()

    def start():
        try:
            running = start_stack(
                folder,
                {
                    **local_smtp(mail.port),
                    "REPS_FILE": str(handoff_reps_file(folder)),
                    "HANDOFF_WAIT_SECONDS": str(HANDOFF_WAIT_SECONDS),
                    "REP_WEBHOOK_URL": slack.url,
                },
            )
        except BaseException:
            slack.stop()
            mail.stop()
            raise
        running.mail = mail
        running.slack = slack  # type: ignore[attr-defined]
        for email in ("hana@example.com", "olaf@example.com"):  # the reps' inbox accounts
            set_rep_password(running.env, email, HANDOFF_REP_PASSWORD)
        return running

    return start


@pytest.fixture(scope="session")
def handoff_stack(tmp_path_factory: pytest.TempPathFactory):
    """A second real stack for live handoff (tests/e2e/test_handoff.py, the browser test): a
    rep always working, one never, a short HANDOFF_WAIT_SECONDS, and a local Slack receiver
    (started ahead, as the module before the first using it begins: tests/e2e/prestart.py)."""
    running = prestart.take("handoff_stack", tmp_path_factory)
    yield running
    prestart.stop_later(_stop_stack_and_sinks, running)  # the stacks stop side by side


# --- starting stacks ahead (tests/e2e/prestart.py) -------------------------------------------
_PLAN: Dict[str, List[str]] = {}  # nodeid of the test whose start launches them -> fixtures


def pytest_collection_finish(session: pytest.Session) -> None:
    """Plan which stack fixtures start as which test begins: each as the module `ahead`
    modules before the first module using it begins (ahead=None: as the first test begins)."""
    _PLAN.clear()
    if session.config.getoption("collectonly") or not session.items:
        return
    launchers = prestart.registered()
    modules: List[List[pytest.Item]] = []
    for item in session.items:
        if not modules or modules[-1][0].module is not getattr(item, "module", None):
            modules.append([item])
        else:
            modules[-1].append(item)
    planned: set = set()
    for index, items in enumerate(modules):
        used = {name for item in items for name in getattr(item, "fixturenames", ())}
        for name in sorted((used & set(launchers)) - planned):
            planned.add(name)
            ahead = launchers[name].ahead
            at = modules[0 if ahead is None else max(0, index - ahead)][0]
            _PLAN.setdefault(at.nodeid, []).append(name)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for name in _PLAN.pop(item.nodeid, []):
        prestart.launch(name, item.config._tmp_path_factory)  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session) -> None:
    failed = prestart.finish()
    if failed:  # a stack that did not stop cleanly fails the run, as a failing teardown did
        print("\nstacks that did not stop cleanly:\n" + "\n".join(failed))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
