"""The redaction every process installs (bot/runtime/privacy_log.py): emails, remembered
messages and tokens never reach a handler, and LOG_LEVEL=DEBUG is for Leadbot's own code."""

from __future__ import annotations

import io
import logging

from bot.runtime.privacy_log import install_log_redaction, library_level, redact, remember_message


def test_emails_messages_and_tokens_are_redacted() -> None:
    remember_message("we are Quokkaworks from Perth")
    line = redact(
        "failed for ada.lovelace+x@example.co.uk: text 'we are Quokkaworks from Perth' "
        "GET /status?token=s3cret&x=1"
    )
    assert "example.co.uk" not in line and "Quokkaworks" not in line and "s3cret" not in line
    assert "[email]" in line and "[message]" in line and "token=[redacted]" in line


def test_every_record_is_redacted_before_any_handler_sees_it() -> None:
    install_log_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("some.library")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("bad value zoe@example.org")
        except ValueError:
            logger.exception("saving %s failed", "zoe@example.org")
    finally:
        logger.removeHandler(handler)
    assert "zoe@example.org" not in stream.getvalue()
    assert "saving [email] failed" in stream.getvalue() and "ValueError" in stream.getvalue()


def test_debug_is_for_our_code_only() -> None:
    root, ours, sqlalchemy = (
        logging.getLogger(),
        logging.getLogger("bot"),
        logging.getLogger("sqlalchemy"),
    )
    saved = root.level, ours.level, sqlalchemy.level
    try:
        install_log_redaction("DEBUG")
        assert ours.getEffectiveLevel() == logging.DEBUG
        assert logging.getLogger("leadbot_test.library").getEffectiveLevel() == logging.INFO
        assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() == logging.WARNING
        assert library_level("WARNING") == "WARNING" and library_level("DEBUG") == "INFO"
    finally:
        root.setLevel(saved[0])
        ours.setLevel(saved[1])
        sqlalchemy.setLevel(saved[2])
