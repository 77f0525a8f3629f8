"""Sending mail over SMTP (the notice to Coursedog support). No secret is ever logged."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Protocol

from bot.config import CoursedogNoticeConfig
from bot.errors import ConfigError


class MailError(Exception):
    """The mail server could not be reached or refused the message; says which and why."""


class Mailer(Protocol):
    """Something that sends a message or raises MailError."""

    @property
    def server(self) -> str: ...

    def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    """SMTP with STARTTLS (unless turned off) and optional login."""

    def __init__(self, config: CoursedogNoticeConfig, login: tuple[str, str] | None) -> None:
        assert config.smtp_host
        self._host = config.smtp_host
        self._port = config.smtp_port
        self._starttls = config.starttls
        self._timeout = config.timeout_seconds
        self._login = login

    @property
    def server(self) -> str:
        """host:port, for messages."""
        return f"{self._host}:{self._port}"

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` to the server; MailError with a reason otherwise."""
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._login:
                    smtp.login(*self._login)
                refused = smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"{self.server} refused the login ({exc.smtp_code})") from None
        except smtplib.SMTPNotSupportedError:
            raise MailError(
                f"{self.server} does not offer STARTTLS (set starttls = false)"
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(f"{self.server} refused {', '.join(exc.recipients)}") from None
        except smtplib.SMTPResponseException as exc:
            raise MailError(
                f"{self.server} answered {exc.smtp_code}: {_text(exc.smtp_error)}"
            ) from None
        except TimeoutError:
            raise MailError(f"{self.server} did not answer within {self._timeout:g} s") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"{self.server} could not be reached: {_reason(exc)}") from None
        if refused:
            raise MailError(f"{self.server} refused {', '.join(refused)}")


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def mailer_from_settings(
    config: CoursedogNoticeConfig, variables: Mapping[str, str]
) -> SmtpMailer | None:
    """The configured mailer, or None when notices are drafted for people to send."""
    if not config.mails:
        return None
    login = None
    if config.username_env and config.password_env:
        missing = [v for v in (config.username_env, config.password_env) if not variables.get(v)]
        if missing:
            raise ConfigError(
                f"coursedog_notice: set {' and '.join(missing)} (the SMTP login), "
                "or remove username_env and password_env"
            )
        login = (variables[config.username_env], variables[config.password_env])
    return SmtpMailer(config, login)
