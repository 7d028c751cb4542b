"""`python -m bot …`: the operator's command line."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable, List

from dotenv import load_dotenv

from bot.config.settings import Settings, SettingsError

Handler = Callable[[Settings, argparse.Namespace], int]


def _leads_export(settings: Settings, _: argparse.Namespace) -> int:
    from bot.services import build_services

    json.dump(build_services(settings).leads.export(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from bot.storage.migrate import upgrade

    upgrade(settings.database_url, args.revision)
    return 0


def _model_ensure(settings: Settings, _: argparse.Namespace) -> int:
    from bot.runtime.model import ensure_model

    ensure_model(settings.model_dir)
    return 0


def _actions(settings: Settings) -> int:
    """The Rasa SDK action server with the `actions` package, on ACTION_PORT.

    Replaces this process, keeping the environment `.env` filled in; `bot/` itself never
    imports Rasa.
    """
    import os

    # rasa_sdk's executor behind the shared secret, on BIND_HOST (rasa_ext/action_server.py).
    os.execv(sys.executable, [sys.executable, "-m", "rasa_ext.action_server"])
    return 0  # pragma: no cover - execv does not return


def _rasa(settings: Settings, args: argparse.Namespace) -> int:
    """One Rasa server (a replica) on RASA_PORT with the current model; replaces this process."""
    import os

    from bot.runtime.launcher import rasa_command, write_endpoints
    from bot.runtime.model import current_model, ensure_model

    model = current_model(settings.model_dir) if args.no_train else ensure_model(settings.model_dir)
    if model is None:
        print("no model matches the current data; run `make train`", file=sys.stderr)
        return 1
    from bot.config.settings import PROJECT_ROOT

    endpoints_file = write_endpoints(
        settings, PROJECT_ROOT / ".run" / f"endpoints-{settings.rasa_port}.yml"
    )
    command = rasa_command(settings, model, endpoints_file)
    os.execv(command[0], command)
    return 0  # pragma: no cover - execv does not return


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runtime.launcher import serve

    if args.role == "actions":
        return _actions(settings)
    if args.role == "web":
        return _web(settings, args)
    if args.role == "worker":
        return _worker(settings, argparse.Namespace(once=False))
    if args.role == "rasa":
        return _rasa(settings, args)
    from bot.runtime.launcher import upgrade_database
    from bot.runtime.model import current_model, ensure_model

    env = None
    if args.production:
        from bot.runtime import production

        env = production.environment()
        settings = Settings.from_env(env)
        try:
            production.check(settings)
        except production.ProductionConfigError as error:
            print(f"cannot start the production layout: {error}", file=sys.stderr)
            return 2
        production.ensure_database(settings.database_url)
        production.ensure_database(settings.tracker_store_url)
    migrated = upgrade_database(settings.database_url, env)
    if migrated != 0:
        return migrated
    model = current_model(settings.model_dir) if args.no_train else ensure_model(settings.model_dir)
    if model is None:
        print("no model matches the current data; run `make train`", file=sys.stderr)
        return 1
    if env is not None:
        return production.serve_production(settings, env)
    return serve(settings)


def _web(settings: Settings, _: argparse.Namespace) -> int:
    from bot.web.app import run

    run(settings)
    return 0


def _score_explain(settings: Settings, args: argparse.Namespace) -> int:
    from bot.scoring.rules import explain, load_rules, score

    rules = load_rules(settings.scoring_file, settings.score_threshold)
    if args.conversation_id is None:
        print(f"{settings.scoring_file}: ok")
        return 0
    from bot.services import build_services

    lead = build_services(settings).leads.get(args.conversation_id)
    if lead is None:
        print(f"no lead for conversation {args.conversation_id!r}", file=sys.stderr)
        return 1
    if lead.score is not None and lead.score_breakdown:
        tier = str(getattr(lead.tier, "value", lead.tier) or "").replace("_", " ")
        print(f"score {lead.score}/100 ({tier}), as stored")
        for hit in lead.score_breakdown:
            print(f"  {hit['points']:+4d}  {hit['reason']}  [{hit['rule']}]")
        return 0
    # Not scored yet: score the stored answers now (conversation intents are not stored).
    print("not scored yet; scoring the stored answers with the current rules:")
    print(explain(score(lead.to_facts(), rules)))
    return 0


def _outbox_status(settings: Settings, _: argparse.Namespace) -> int:
    from bot.services import build_services

    status = build_services(settings).outbox.status()
    print(status.render())
    return 0


def _report(settings: Settings, args: argparse.Namespace) -> int:
    from bot.analytics.funnel import render_text
    from bot.analytics.report import build_report, parse_span
    from bot.services import build_services

    try:
        span = parse_span(args.since)
    except ValueError as error:
        print(f"--since: {error}", file=sys.stderr)
        return 2
    services = build_services(settings)
    until = services.clock()
    report = build_report(services.engine, settings.tracker_store_url, until - span, until)
    if args.json:
        json.dump(report.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(report))
    return 0


def _retention_run(settings: Settings, _: argparse.Namespace) -> int:
    from bot.services import build_services

    print(build_services(settings).run_retention().render())


def _token(settings: Settings, _: argparse.Namespace) -> int:
    from bot.runtime.tokens import rasa_auth_token

    print(rasa_auth_token(settings))
    return 0


def _outbox_retry(settings: Settings, _: argparse.Namespace) -> int:
    from bot.clock import utc_now
    from bot.services import build_services

    count = build_services(settings).outbox.retry_failed(utc_now())
    print(f"{count} failed deliveries queued again; the worker sends them on its next round")
    return 0


def _reps_set_password(settings: Settings, args: argparse.Namespace) -> int:
    """Create a rep's inbox account or change its password (asked twice, never echoed)."""
    import getpass

    from bot.accounts.service import Accounts, PasswordError
    from bot.clock import utc_now
    from bot.storage.engine import make_engine

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"New password for {args.email}: ")
        if getpass.getpass("Again: ") != password:
            print("the two passwords differ; nothing changed", file=sys.stderr)
            return 1
    engine = make_engine(settings.database_url)
    try:
        created = Accounts(engine, utc_now).set_password(args.email, password)
    except PasswordError as error:
        print(f"{error}; nothing changed", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(
        f"{'created' if created else 'changed'}: {args.email.strip().lower()} can sign in at "
        f"{settings.public_base_url.rstrip('/')}/inbox/login"
    )
    return 0


def _reps_invite(settings: Settings, args: argparse.Namespace) -> int:
    """Email a rep a one-time link to choose their password (sent by the worker)."""
    from bot.accounts.service import Accounts
    from bot.clock import utc_now
    from bot.storage.engine import make_engine
    from bot.web.urls import PublicUrls

    engine = make_engine(settings.database_url)
    try:
        Accounts(engine, utc_now).invite(args.email, PublicUrls(settings.public_base_url))
    finally:
        engine.dispose()
    print(f"invitation to {args.email.strip().lower()} queued; the worker sends it")
    return 0


def _reps_list(settings: Settings, _: argparse.Namespace) -> int:
    from bot.accounts.service import Accounts
    from bot.clock import utc_now
    from bot.storage.engine import make_engine

    for email in Accounts(make_engine(settings.database_url), utc_now).emails():
        print(email)
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from bot.outbox.worker import main as worker_main

    return worker_main(settings, once=args.once)


Group = argparse._SubParsersAction  # what add_subparsers() returns


def _command(parent: Group, name: str, help: str, handler: Handler) -> argparse.ArgumentParser:
    """A command (`python -m bot <name>` or `<group> <name>`) run by `handler`."""
    command = parent.add_parser(name, help=help)
    command.set_defaults(handler=handler)
    return command


def _group(parent: Group, name: str, help: str) -> Group:
    """A group of commands: `python -m bot <name> <action>`."""
    return parent.add_parser(name, help=help).add_subparsers(dest="action", required=True)


def parser() -> argparse.ArgumentParser:
    """Every command, its help and its options."""
    top = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    leads = _group(commands, "leads", "leads")
    _command(leads, "export", "print every lead as a JSON array", _leads_export)
    db = _group(commands, "db", "database schema")
    upgrade = _command(db, "upgrade", "apply migrations (default: to the newest)", _db_upgrade)
    upgrade.add_argument("revision", nargs="?", default="head")
    model = _group(commands, "model", "trained model")
    _command(model, "ensure", "train if data, domain or config changed", _model_ensure)

    serve = _command(
        commands, "serve", "start the whole stack, or one process of it (--role)", _serve
    )
    serve.add_argument("--no-train", action="store_true", help="fail instead of training")
    serve.add_argument(
        "--production",
        action="store_true",
        help="Rasa and action-server replicas behind HAProxy, PostgreSQL, Redis, RabbitMQ",
    )
    serve.add_argument(
        "--role",
        choices=("rasa", "actions", "web", "worker"),
        help="run only this process (default: every process, each restarted if it crashes)",
    )
    _command(
        commands, "web", "start the web process: widget.js, demo page, privacy page, /health", _web
    )
    score = _command(commands, "score", "lead scoring (config/scoring.yml)", _score_explain)
    score.add_argument(
        "--explain", dest="conversation_id", metavar="CONVERSATION_ID", help="a lead's breakdown"
    )
    score.add_argument(
        "--check", action="store_true", help="only check the scoring file (the default)"
    )

    outbox = _group(commands, "outbox", "email/webhook deliveries")
    retention = _group(commands, "retention", "delete what is kept longer than RETENTION_*_DAYS")
    for group, name, help, handler in (
        (outbox, "status", "counts per status and the failed items", _outbox_status),
        (outbox, "retry", "queue every failed delivery again (after fixing it)", _outbox_retry),
        (retention, "run", "apply the retention rules now", _retention_run),
        (commands, "token", "print the Rasa HTTP API token (?token=…), made on first use", _token),
    ):
        _command(group, name, help, handler)
    report = _command(commands, "report", "the funnel: drop-off, re-asks, speed to lead", _report)
    report.add_argument("--since", default="30d", help="window: 30d (default), 12h, 2w")
    report.add_argument("--json", action="store_true", help="as JSON")

    reps = _group(commands, "reps", "reps' inbox accounts")
    set_password = _command(
        reps,
        "set-password",
        "create a rep's account or change its password (signs it out)",
        _reps_set_password,
    )
    set_password.add_argument("email")
    set_password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    invite = _command(
        reps, "invite", "email a rep a one-time link to choose a password", _reps_invite
    )
    invite.add_argument("email")
    _command(reps, "list", "the emails that have an account", _reps_list)

    worker = _command(commands, "worker", "send due nurture steps and deliver the outbox", _worker)
    worker.add_argument("--once", action="store_true", help="one round, then exit")
    return top


def main(argv: List[str] | None = None) -> int:
    args = parser().parse_args(argv)
    load_dotenv()  # entry point: .env fills what the environment doesn't set
    try:
        settings = Settings.from_env()
    except SettingsError as error:  # a typo stops start-up, naming the variable
        print(f"leadbot: {error}", file=sys.stderr)
        return 2
    from bot.runtime.privacy_log import install_log_redaction

    install_log_redaction()  # no email or message text in any log line of this process
    try:
        return args.handler(settings, args)
    except BrokenPipeError:  # `python -m bot leads export | head`: the reader left early
        sys.stderr.close()
        return 0
