"""Free-mail domains, so the bot can tell a work address from a personal one.

A lead who writes from a personal address is still a lead, but scoring and enrichment treat a
company domain as a stronger signal. The list is shipped as code (no file I/O at import) and is
deliberately conservative: a business domain wrongly listed here would cost a real lead points.
"""

from __future__ import annotations

# Exact domains (and their subdomains, e.g. "mail.yahoo.co.uk") of widely used free-mail services.
FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        # Google
        "gmail.com",
        "googlemail.com",
        # Microsoft
        "outlook.com",
        "outlook.de",
        "outlook.fr",
        "outlook.es",
        "outlook.it",
        "outlook.jp",
        "outlook.com.au",
        "outlook.co.uk",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "hotmail.de",
        "hotmail.it",
        "hotmail.es",
        "hotmail.nl",
        "hotmail.be",
        "hotmail.ca",
        "hotmail.com.au",
        "hotmail.com.br",
        "hotmail.co.jp",
        "live.com",
        "live.co.uk",
        "live.fr",
        "live.de",
        "live.nl",
        "live.it",
        "live.ca",
        "live.com.au",
        "msn.com",
        "passport.com",
        "windowslive.com",
        # Apple
        "icloud.com",
        "me.com",
        "mac.com",
        # Yahoo / AOL / Verizon
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.de",
        "yahoo.es",
        "yahoo.it",
        "yahoo.ca",
        "yahoo.co.in",
        "yahoo.in",
        "yahoo.co.jp",
        "yahoo.com.au",
        "yahoo.com.br",
        "yahoo.com.mx",
        "yahoo.com.ar",
        "yahoo.com.sg",
        "yahoo.com.ph",
        "ymail.com",
        "rocketmail.com",
        "aol.com",
        "aol.co.uk",
        "aim.com",
        "verizon.net",
        # Privacy-focused
        "proton.me",
        "protonmail.com",
        "protonmail.ch",
        "pm.me",
        "tutanota.com",
        "tutanota.de",
        "tuta.io",
        "tutamail.com",
        "posteo.de",
        "posteo.net",
        "mailbox.org",
        "hushmail.com",
        "startmail.com",
        "fastmail.com",
        "fastmail.fm",
        "runbox.com",
        "disroot.org",
        "riseup.net",
        # GMX / United Internet
        "gmx.com",
        "gmx.net",
        "gmx.de",
        "gmx.at",
        "gmx.ch",
        "gmx.fr",
        "gmx.co.uk",
        "gmx.us",
        "web.de",
        "mail.com",
        "email.com",
        "usa.com",
        "1und1.de",
        # Other European providers
        "t-online.de",
        "freenet.de",
        "arcor.de",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "laposte.net",
        "sfr.fr",
        "libero.it",
        "virgilio.it",
        "tiscali.it",
        "alice.it",
        "seznam.cz",
        "centrum.cz",
        "wp.pl",
        "o2.pl",
        "onet.pl",
        "interia.pl",
        "btinternet.com",
        "sky.com",
        "virginmedia.com",
        "ntlworld.com",
        "talktalk.net",
        "bluewin.ch",
        "telenet.be",
        "skynet.be",
        "ziggo.nl",
        "home.nl",
        "planet.nl",
        "kpnmail.nl",
        "terra.com.br",
        "bol.com.br",
        "uol.com.br",
        # Russia / CIS
        "mail.ru",
        "inbox.ru",
        "list.ru",
        "bk.ru",
        "rambler.ru",
        "yandex.ru",
        "yandex.com",
        "yandex.ua",
        "yandex.by",
        "yandex.kz",
        "ya.ru",
        "ukr.net",
        # Asia
        "qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "aliyun.com",
        "naver.com",
        "hanmail.net",
        "daum.net",
        "rediffmail.com",
        # North America ISPs and misc
        "comcast.net",
        "att.net",
        "sbcglobal.net",
        "bellsouth.net",
        "cox.net",
        "charter.net",
        "earthlink.net",
        "optonline.net",
        "shaw.ca",
        "rogers.com",
        "sympatico.ca",
        "bigpond.com",
        "optusnet.com.au",
        "zoho.com",
        "zohomail.com",
        "hey.com",
        "inbox.com",
        "lycos.com",
        "juno.com",
        "netzero.net",
        "mail2world.com",
    }
)

# Brands whose every country domain is free mail ("yahoo.*", "hotmail.*", "gmx.*", ...). Matched
# against the label just before the public suffix, so "hotmail.com.ar" and "yahoo.co.id" count.
FREE_MAIL_BRANDS: frozenset[str] = frozenset(
    {"gmail", "googlemail", "yahoo", "hotmail", "outlook", "live", "gmx", "yandex", "aol"}
)

# Second-level labels that form a two-part public suffix such as "co.uk" or "com.au".
_TWO_PART_SUFFIX_LABELS: frozenset[str] = frozenset(
    {"co", "com", "net", "org", "ac", "gov", "ne", "or", "edu"}
)


def _brand_label(labels: list[str]) -> str | None:
    """Return the label right before the public suffix ("yahoo" in "mail.yahoo.co.uk")."""
    if len(labels) >= 3 and labels[-2] in _TWO_PART_SUFFIX_LABELS and len(labels[-1]) == 2:
        return labels[-3]
    if len(labels) >= 2:
        return labels[-2]
    return None


def is_free_mail(domain: str) -> bool:
    """True when `domain` (or a parent domain) belongs to a free-mail service."""
    domain = domain.strip().strip(".").lower()
    labels = [label for label in domain.split(".") if label]
    for i in range(len(labels) - 1):
        if ".".join(labels[i:]) in FREE_MAIL_DOMAINS:
            return True
    return _brand_label(labels) in FREE_MAIL_BRANDS
