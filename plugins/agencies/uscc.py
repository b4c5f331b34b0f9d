"""The unified social credit code (统一社会信用代码, GB 32100-2015) and its check digit."""

from __future__ import annotations

#: the 31 characters of the code (no I, O, Z, S, V)
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_char(first17: str) -> str:
    """The 18th character for the first 17 (which must be valid characters)."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """None when ``code`` is a well-formed code with the right check digit, else why not."""
    from flask_babel import gettext as _

    code = (code or "").strip().upper()
    if len(code) != 18:
        return _("A unified social credit code has 18 characters.")
    bad = [c for c in code if c not in ALPHABET]
    if bad:
        return _("The code contains characters that are not allowed: %(chars)s.",
                 chars="".join(dict.fromkeys(bad)))
    if check_char(code[:17]) != code[17]:
        return _("The check digit of the unified social credit code is wrong.")
    return None


def make_uscc(body17: str) -> str:
    """A valid code from 17 characters (demo data and tests)."""
    return body17 + check_char(body17)
