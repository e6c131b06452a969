"""Errors of the identity domain."""

from zhiyi.core.errors import Conflict, Forbidden, NotAuthenticated, NotFound, RuleViolated, TooManyRequests


class LoginFailed(NotAuthenticated):
    code, message = "login_failed", "Wrong username or password."


class LoginThrottled(TooManyRequests):
    code, message = (
        "login_throttled",
        (
            "Too many failed sign-ins from here: wait %(minutes)s min, "
            "or sign in with a code sent to your phone."
        ),
    )


class SecondFactorRequired(NotAuthenticated):
    code, message = (
        "second_factor_required",
        (
            "This account has had many failed sign-ins. We sent a code to your phone %(phone)s: "
            "enter it with your password."
        ),
    )


class TokenRejected(NotAuthenticated):
    code, message = "token_invalid", "The token is invalid or has expired."


class VerificationFailed(RuleViolated):
    code, message = "verification_failed", "The verification code is wrong or has expired."


class VerificationThrottled(TooManyRequests):
    code, message = "verification_throttled", "A code was sent recently; wait a minute before asking again."


class AccountExists(Conflict):
    code, message = "account_exists", "An account with this phone number or username already exists."


class PatientClaimRefused(Conflict):
    code, message = (
        "patient_claim_refused",
        ("This person is already registered. Please confirm your identity at a registration desk."),
    )


class AccountNotFound(NotFound):
    code, message = "account_not_found", "No such account."


class OwnAccount(Conflict):
    code, message = "own_account", "You cannot change or delete your own account here."


class NotYourCampus(Forbidden):
    code, message = "not_your_campus", "Choose campuses you manage."
