"""What a password must be: long enough, not one that is commonly used or easily guessed (zxcvbn's
frequency lists of leaked passwords, with its l33t, sequence and repeat patterns), and not made of the
person's own phone number, name or username."""

from __future__ import annotations

from zxcvbn import zxcvbn

from zhiyi.core.errors import FieldError, ValidationFailed
from zhiyi.core.i18n import N_

MIN_LENGTH = 8
MAX_LENGTH = 128
# zxcvbn's score 2 and up: more than 10^6 guesses, beyond what throttled sign-ins allow an attacker
MIN_SCORE = 2
WEAK = N_(
    "Choose a password of at least 8 characters that is not commonly used and not your phone number or name."
)


def check_password_strength(password: str, *, personal: tuple[str | None, ...] = ()) -> None:
    """Refuse (422 `password.weak`) a short, common or guessable password, or one made from `personal`
    facts (phone, name, username, ID number)."""
    own = [p.strip().lower() for p in personal if p and p.strip()]
    own += [p.replace(" ", "").replace("·", "") for p in own] + [w for p in own for w in p.split()]
    lowered = password.lower()
    if (
        not MIN_LENGTH <= len(password) <= MAX_LENGTH
        or password.isdigit()
        or password.isalpha()
        or any(len(p) >= 4 and p in lowered for p in own)
        or zxcvbn(password[:64], user_inputs=own)["score"] < MIN_SCORE
    ):
        raise ValidationFailed(errors=[FieldError("password", WEAK, "password.weak")])
