"""`python -m bot …`: the operator's command line."""

from __future__ import annotations

import argparse
import json
import sys
from typing import List

from dotenv import load_dotenv

from bot.config.settings import Settings, SettingsError


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
    from bot.runtime.model import current_model, ensure_model
    from bot.storage.migrate import upgrade

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
    upgrade(settings.database_url)
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


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    leads = commands.add_parser("leads", help="leads").add_subparsers(dest="action", required=True)
    leads.add_parser("export", help="print every lead as a JSON array").set_defaults(
        handler=_leads_export
    )
    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="action", required=True
    )
    db_upgrade = db.add_parser("upgrade", help="apply migrations (default: to the newest)")
    db_upgrade.add_argument("revision", nargs="?", default="head")
    db_upgrade.set_defaults(handler=_db_upgrade)
    model = commands.add_parser("model", help="trained model").add_subparsers(
        dest="action", required=True
    )
    model.add_parser("ensure", help="train if data, domain or config changed").set_defaults(
        handler=_model_ensure
    )
    serve = commands.add_parser(
        "serve", help="start the whole stack, or one process of it (--role)"
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
    serve.set_defaults(handler=_serve)
    commands.add_parser(
        "web", help="start the web process: widget.js, demo page, privacy page, /health"
    ).set_defaults(handler=_web)

    score = commands.add_parser("score", help="lead scoring (config/scoring.yml)")
    score.add_argument(
        "--explain", dest="conversation_id", metavar="CONVERSATION_ID", help="a lead's breakdown"
    )
    score.add_argument(
        "--check", action="store_true", help="only check the scoring file (the default)"
    )
    score.set_defaults(handler=_score_explain)
    outbox = commands.add_parser("outbox", help="email/webhook deliveries").add_subparsers(
        dest="action", required=True
    )
    outbox.add_parser("status", help="counts per status and the failed items").set_defaults(
        handler=_outbox_status
    )
    report = commands.add_parser(
        "report", help="the funnel: steps, drop-off and re-asks per question, speed to lead"
    )
    report.add_argument("--since", default="30d", help="window: 30d (default), 12h, 2w")
    report.add_argument("--json", action="store_true", help="as JSON")
    report.set_defaults(handler=_report)
    retention = commands.add_parser(
        "retention", help="delete what is kept longer than RETENTION_*_DAYS"
    ).add_subparsers(dest="action", required=True)
    retention.add_parser("run", help="apply the retention rules now").set_defaults(
        handler=_retention_run
    )
    outbox.add_parser(
        "retry", help="queue every failed delivery again (after fixing the endpoint)"
    ).set_defaults(handler=_outbox_retry)
    commands.add_parser(
        "token", help="print the Rasa HTTP API token (?token=…), generated on first use"
    ).set_defaults(handler=_token)
    reps = commands.add_parser("reps", help="reps' inbox accounts").add_subparsers(
        dest="action", required=True
    )
    set_password = reps.add_parser(
        "set-password", help="create a rep's account or change its password (signs it out)"
    )
    set_password.add_argument("email")
    set_password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    set_password.set_defaults(handler=_reps_set_password)
    reps.add_parser("list", help="the emails that have an account").set_defaults(handler=_reps_list)
    worker = commands.add_parser("worker", help="send due nurture steps and deliver the outbox")
    worker.add_argument("--once", action="store_true", help="one round, then exit")
    worker.set_defaults(handler=_worker)

    args = parser.parse_args(argv)
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
