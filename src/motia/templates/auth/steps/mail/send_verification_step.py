"""Mail a one-time verification link to a new user, through SMTP.

The link's token is made here and only its SHA-256 is stored, so it exists in full only
in the mail. A failed send raises: the queue retries it with backoff. Settings come from
the environment: SMTP_HOST (localhost), SMTP_PORT (1025), MAIL_FROM, APP_URL.
"""

import asyncio
import os
import secrets
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from steps.lib.users import digest, profile_key

from motia import EventConfig, FlowContext

VALID_FOR = timedelta(hours=24)

config: EventConfig = {
    "type": "event",
    "name": "SendVerification",
    "description": "Mail the new user a link that verifies their address",
    "subscribes": ["user.signed_up"],
    "emits": [],
    "input": {
        "type": "object",
        "properties": {"userId": {"type": "string"}},
        "required": ["userId"],
    },
    "flows": ["auth"],
    "infrastructure": {"queue": {"maxRetries": 5, "backoff": {"delay": 2, "maxDelay": 60}}},
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    user: dict[str, Any] | None = await ctx.state.get("users", profile_key(input_data["userId"]))
    if user is None or user["verified"]:
        return
    token = secrets.token_urlsafe(32)
    expires = ctx.utils.dates.now() + VALID_FOR
    await ctx.state.set(
        "verifications", digest(token), {"userId": user["id"], "expiresAt": expires.isoformat()}
    )
    app_url = os.environ.get("APP_URL", "http://localhost:3000")
    mail = EmailMessage()
    mail["From"] = os.environ.get("MAIL_FROM", "no-reply@example.com")
    mail["To"] = user["email"]
    mail["Subject"] = "Verify your email address"
    mail.set_content(
        f"Hello {user['name']},\n\nOpen this link to verify your address (valid 24 hours):\n"
        f"{app_url}/auth/verify?token={token}\n"
    )
    await asyncio.to_thread(_send, mail)
    ctx.logger.info("Verification mail sent", {"userId": user["id"]})


def _send(mail: EmailMessage) -> None:
    host = os.environ.get("SMTP_HOST", "localhost")
    port = int(os.environ.get("SMTP_PORT", "1025"))
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        smtp.send_message(mail)
