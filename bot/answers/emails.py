"""Email address: found in the message, checked with email-validator, typos offered back."""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, EmailUndeliverableError, validate_email

from bot.answers._text import clean, closest, has_markup, is_declined, is_too_long
from bot.answers._types import DECLINED, Parsed, invalid, ok
from bot.answers.freemail import FREE_MAIL_DOMAINS, is_free_mail


@dataclass(frozen=True)
class EmailInfo:
    """A syntactically valid address: local part as typed, domain lower-cased."""

    address: str
    domain: str
    free_mail: bool


# Providers whose misspellings are worth a "did you mean …?": they are most of the typos.
_PROVIDERS = (
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
    "protonmail.com",
    "live.com",
    "aol.com",
    "msn.com",
    "yandex.com",
    "gmx.com",
    "gmx.de",
    "web.de",
    "mail.ru",
    "comcast.net",
)
_PROVIDER_NAMES = {domain.split(".")[0]: domain for domain in _PROVIDERS}
# Well-known misspellings of provider names (the part before the top-level domain).
_NAME_TYPOS = {
    "gmial": "gmail",
    "gmai": "gmail",
    "gamil": "gmail",
    "gmal": "gmail",
    "gmaill": "gmail",
    "gmali": "gmail",
    "gnail": "gmail",
    "gmaik": "gmail",
    "gmil": "gmail",
    "gmaio": "gmail",
    "gimail": "gmail",
    "gemail": "gmail",
    "g-mail": "gmail",
    "gogglemail": "googlemail",
    "googlemial": "googlemail",
    "hotmial": "hotmail",
    "hotmai": "hotmail",
    "hotmal": "hotmail",
    "homail": "hotmail",
    "hotmil": "hotmail",
    "hotamil": "hotmail",
    "htomail": "hotmail",
    "hotmaill": "hotmail",
    "hormail": "hotmail",
    "outlok": "outlook",
    "outloo": "outlook",
    "outllok": "outlook",
    "outook": "outlook",
    "otlook": "outlook",
    "oulook": "outlook",
    "outlool": "outlook",
    "yaho": "yahoo",
    "yahho": "yahoo",
    "yhoo": "yahoo",
    "yahooo": "yahoo",
    "yaoo": "yahoo",
    "tahoo": "yahoo",
    "icoud": "icloud",
    "iclod": "icloud",
    "icluod": "icloud",
    "iclould": "icloud",
    "protonmial": "protonmail",
    "protonmai": "protonmail",
    "protonmal": "protonmail",
}
# Misspelt top-level domains. "co", "cm" and "om" are real (Colombia, Cameroon, Oman), so they
# are only corrected after a provider's name ("gmail.co").
_TLD_TYPOS = {
    "con": "com",
    "cmo": "com",
    "cim": "com",
    "vom": "com",
    "xom": "com",
    "cpm": "com",
    "comm": "com",
    "coom": "com",
    "ocm": "com",
    "c0m": "com",
    "comn": "com",
    "copm": "com",
    "cok": "com",
    "colm": "com",
    "ney": "net",
    "nte": "net",
    "bet": "net",
}
_PROVIDER_ONLY_TLD_TYPOS = {"co": "com", "cm": "com", "om": "com", "c": "com", "cn": "com"}

# Beyond the list above, a provider name at least this long that is this similar (difflib) to the
# typed name is offered as a correction; shorter names ("gmail" vs "email") are too close to
# real domains for that.
MIN_FUZZY_PROVIDER_CHARS = 6
PROVIDER_CUTOFF = 0.85
# Real domains close to a provider's name: never "corrected".
_NOT_TYPOS = frozenset({"cloud", "mail", "email", "hotmart", "outlooks", "looksmart"})

_ADDRESS = re.compile(r"[^\s<>()\[\],;:\"'@]+@[^\s<>()\[\],;:\"']*")
_OBFUSCATED = re.compile(
    r"(?P<local>[\w.+-]+)\s*(?:\[at\]|\(at\)|\sat\s)\s*(?P<domain>[\w-]+(?:\s*(?:\[dot\]|\(dot\)"
    r"|\sdot\s|\.)\s*[\w-]+)+)",
    re.IGNORECASE,
)
_ANGLE_ADDRESS = re.compile(r"<\s*(mailto:)?([^<>\s]+@[^<>\s]+)\s*>", re.IGNORECASE)


def _extract(text: str) -> str | None:
    """The last address-looking word in the message ("it's jane@acme.com, thanks!")."""
    text = re.sub(r"(?i)\bmailto:", "", text)
    found = _ADDRESS.findall(text)
    if not found:
        match = _OBFUSCATED.search(text)
        if not match:
            return None
        domain = re.sub(r"\s*(\[dot\]|\(dot\)|\sdot\s)\s*", ".", match.group("domain"), flags=re.I)
        return f"{match.group('local')}@{domain.replace(' ', '')}"
    return found[-1].strip(".!?")


def _typo_fix(domain: str) -> str | None:
    """The provider domain the visitor probably meant ("gmial.com" -> "gmail.com"), if any."""
    domain = domain.lower()
    if domain in FREE_MAIL_DOMAINS:
        return None
    name, _, tld = domain.rpartition(".")
    if not name:  # "jane@gmail"
        return _PROVIDER_NAMES.get(_NAME_TYPOS.get(domain, domain))
    fixed_name = _NAME_TYPOS.get(name, name)
    if fixed_name not in _PROVIDER_NAMES and name not in _NOT_TYPOS and "." not in name:
        long_names = [n for n in _PROVIDER_NAMES if len(n) >= MIN_FUZZY_PROVIDER_CHARS]
        if len(name) >= MIN_FUZZY_PROVIDER_CHARS - 1:
            fixed_name = closest(name, long_names, PROVIDER_CUTOFF) or fixed_name
    is_provider = fixed_name in _PROVIDER_NAMES
    fixed_tld = _TLD_TYPOS.get(tld, tld)
    if is_provider and tld in _PROVIDER_ONLY_TLD_TYPOS:
        fixed_tld = _PROVIDER_ONLY_TLD_TYPOS[tld]
    fixed = f"{fixed_name}.{fixed_tld}"
    if fixed == domain:
        return None
    if is_provider and fixed not in FREE_MAIL_DOMAINS:
        fixed = _PROVIDER_NAMES[fixed_name]  # "gmial.con" -> "gmail.com"
    return fixed


def check_email(text: str, check_deliverability: bool = False) -> Parsed[EmailInfo]:
    """A normalised address from the message, with typo suggestions and a free-mail flag.

    Deliverability (a DNS lookup) is off by default so tests and offline runs stay offline.
    """
    text = clean(text)
    if not text:
        return invalid("empty")
    if is_too_long(text):
        return invalid("too_long")
    text = _ANGLE_ADDRESS.sub(r" \2 ", text)  # "Jane <jane@acme.com>" is how mail clients write it
    if has_markup(text, strict=True):
        return invalid("markup")
    address = _extract(text)
    if address is None:
        if "@" in text:
            return invalid("syntax")
        return DECLINED if is_declined(text, whole_no=True) else invalid("no_at")
    local, _, domain = address.rpartition("@")
    fixed = _typo_fix(domain.strip("."))
    if fixed and local:
        return invalid("typo", suggestion=f"{local}@{fixed}")
    try:
        result = validate_email(address, check_deliverability=check_deliverability)
    except EmailUndeliverableError:
        return invalid("undeliverable")
    except EmailNotValidError:
        return invalid("syntax")
    except Exception:  # e.g. DNS timeouts inside the library: treat as not verifiable
        return invalid("undeliverable" if check_deliverability else "syntax")
    return ok(
        EmailInfo(
            address=result.normalized,
            domain=result.domain,
            free_mail=is_free_mail(result.domain),
        )
    )
