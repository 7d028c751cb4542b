"""Table-driven tests for `check_email`: extraction, normalisation, typos, free mail."""

from __future__ import annotations

import pytest

from bot.answers import EmailInfo, Parsed, Status, check_email
from bot.answers.freemail import FREE_MAIL_DOMAINS, is_free_mail

OK, DECLINED, INVALID = Status.OK, Status.DECLINED, Status.INVALID


@pytest.mark.parametrize(
    ("text", "address", "domain", "free_mail"),
    [
        ("jane@acme.com", "jane@acme.com", "acme.com", False),
        ("sure, it's Jane.Doe@Acme.com thanks", "Jane.Doe@acme.com", "acme.com", False),
        ("JANE@GMAIL.COM", "JANE@gmail.com", "gmail.com", True),
        ("my email is jane@acme.com.", "jane@acme.com", "acme.com", False),
        ("jane.doe+crm@sub.acme.io.", "jane.doe+crm@sub.acme.io", "sub.acme.io", False),
        ("Jane Doe <jane@acme.com>", "jane@acme.com", "acme.com", False),
        ("mailto:x@acme.com", "x@acme.com", "acme.com", False),
        ("jane at acme dot com", "jane@acme.com", "acme.com", False),
        ("jane [at] acme [dot] co [dot] uk", "jane@acme.co.uk", "acme.co.uk", False),
        ("(jane@acme.com)", "jane@acme.com", "acme.com", False),
        ("x@mail.yahoo.co.uk", "x@mail.yahoo.co.uk", "mail.yahoo.co.uk", True),
        ("x@yahoo.fr", "x@yahoo.fr", "yahoo.fr", True),
        ("x@hotmail.com.ar", "x@hotmail.com.ar", "hotmail.com.ar", True),
        ("x@protonmail.com", "x@protonmail.com", "protonmail.com", True),
        ("x@proton.me", "x@proton.me", "proton.me", True),
        ("x@gmx.de", "x@gmx.de", "gmx.de", True),
        ("x@web.de", "x@web.de", "web.de", True),
        ("x@qq.com", "x@qq.com", "qq.com", True),
        ("x@163.com", "x@163.com", "163.com", True),
        ("x@icloud.com", "x@icloud.com", "icloud.com", True),
        ("x@acme.co", "x@acme.co", "acme.co", False),
        ("x@aon.com", "x@aon.com", "aon.com", False),
        ("x@cloud.com", "x@cloud.com", "cloud.com", False),
        ("x@mail.com", "x@mail.com", "mail.com", True),
        ("josé@bücher.de", "josé@bücher.de", "bücher.de", False),
        ("first.last@dept.university.edu", "first.last@dept.university.edu", None, False),
    ],
)
def test_check_email_ok(text: str, address: str, domain: str | None, free_mail: bool) -> None:
    result = check_email(text)
    assert result.status is OK
    assert result.value == EmailInfo(address, domain or address.split("@")[1], free_mail)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("jane@gmial.com", "jane@gmail.com"),
        ("jane@gmai.com", "jane@gmail.com"),
        ("jane@gamil.com", "jane@gmail.com"),
        ("bob@hotmial.com", "bob@hotmail.com"),
        ("bob@hottmail.com", "bob@hotmail.com"),
        ("x@outlok.com", "x@outlook.com"),
        ("x@outlookk.com", "x@outlook.com"),
        ("x@yaho.com", "x@yahoo.com"),
        ("x@gmail.con", "x@gmail.com"),
        ("x@gmail.co", "x@gmail.com"),
        ("x@gmail.cm", "x@gmail.com"),
        ("x@gmail", "x@gmail.com"),
        ("x@acme.cmo", "x@acme.com"),
        ("x@acme.con", "x@acme.com"),
        ("x@gmial.con", "x@gmail.com"),
        ("Jane.Doe@iclod.com", "Jane.Doe@icloud.com"),
        ("x@protonmial.com", "x@protonmail.com"),
        ("it's jane@gmial.com thanks", "jane@gmail.com"),
    ],
)
def test_check_email_typos(text: str, suggestion: str) -> None:
    assert check_email(text) == Parsed(INVALID, error="typo", suggestion=suggestion)


@pytest.mark.parametrize(
    ("text", "status", "error"),
    [
        ("", INVALID, "empty"),
        ("   ", INVALID, "empty"),
        ("jane", INVALID, "no_at"),
        ("jane.doe at acme", INVALID, "no_at"),
        ("you already have it", INVALID, "no_at"),
        ("jane@", INVALID, "syntax"),
        ("@acme.com", INVALID, "syntax"),
        ("jane@@acme.com", INVALID, "syntax"),
        ("jane@acme", INVALID, "syntax"),
        ("jane@acme..com", INVALID, "syntax"),
        ("jane@-acme.com", INVALID, "syntax"),
        ("jane@exa_mple.com", INVALID, "syntax"),
        ("jane..doe@acme.com", INVALID, "syntax"),
        ("x@" + "a" * 10_000 + ".com", INVALID, "too_long"),
        ("<script>alert(1)</script>", INVALID, "markup"),
        ("<a href='mailto:x@acme.com'>me</a>", INVALID, "markup"),
        ("prefer not to say", DECLINED, None),
        ("no", DECLINED, None),
        ("I'd rather not give my email", DECLINED, None),
    ],
)
def test_check_email_other(text: str, status: Status, error: str | None) -> None:
    assert check_email(text) == Parsed(status, error=error)


def test_free_mail_list_is_substantial() -> None:
    assert len(FREE_MAIL_DOMAINS) >= 100
    assert all(d == d.lower() and "." in d for d in FREE_MAIL_DOMAINS)


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("gmail.com", True),
        ("GoogleMail.com", True),
        ("yahoo.co.jp", True),
        ("yahoo.com.tw", True),
        ("mail.yahoo.co.uk", True),
        ("hotmail.es", True),
        ("gmx.net", True),
        ("yandex.ru", True),
        ("mail.ru", True),
        ("acme.com", False),
        ("gmailer.com", False),
        ("yahoo-finance-partner.com", False),
        ("", False),
    ],
)
def test_is_free_mail(domain: str, expected: bool) -> None:
    assert is_free_mail(domain) is expected


def test_undeliverable_only_when_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deliverability needs DNS; the library's verdict is passed on as "undeliverable"."""
    from email_validator import EmailUndeliverableError

    import bot.answers.emails as emails

    calls = []

    def fake_validate(address: str, check_deliverability: bool):  # noqa: ANN202
        calls.append(check_deliverability)
        raise EmailUndeliverableError("The domain name nowhere.example does not exist.")

    monkeypatch.setattr(emails, "validate_email", fake_validate)
    assert check_email("jane@nowhere.example", check_deliverability=True) == Parsed(
        INVALID, error="undeliverable"
    )
    assert calls == [True]
