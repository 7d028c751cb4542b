"""`python -m bot …`: the operator's command line."""

from __future__ import annotations

import argparse
import json
import sys
from typing import List

from dotenv import load_dotenv

from bot.settings import Settings


def _leads_export(settings: Settings, _: argparse.Namespace) -> int:
    from bot.db import make_engine
    from bot.leads import LeadStore

    store = LeadStore(make_engine(settings.database_url))
    json.dump(store.export(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from bot.migrate import upgrade

    upgrade(settings.database_url, args.revision)
    return 0


def _model_ensure(settings: Settings, _: argparse.Namespace) -> int:
    from bot.modelcache import ensure_model

    ensure_model(settings.model_dir)
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.launcher import serve
    from bot.migrate import upgrade
    from bot.modelcache import current_model, ensure_model

    upgrade(settings.database_url)
    model = current_model(settings.model_dir) if args.no_train else ensure_model(settings.model_dir)
    if model is None:
        print("no model matches the current data; run `make train`", file=sys.stderr)
        return 1
    return serve(settings, model)


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
    serve = commands.add_parser("serve", help="start the Rasa server and the action server")
    serve.add_argument("--no-train", action="store_true", help="fail instead of training")
    serve.set_defaults(handler=_serve)

    args = parser.parse_args(argv)
    load_dotenv()  # entry point: .env fills what the environment doesn't set
    return args.handler(Settings.from_env(), args)
