"""The Telegram Login Widget: checking the signed data Telegram sends back after a person logs in.

Telegram signs the fields with HMAC-SHA-256 under the SHA-256 of the bot's token
(https://core.telegram.org/widgets/login#checking-authorization); only the bot's owner can produce a valid hash.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta

# Signed data older than this is refused, so a leaked login URL is soon worthless.
MAX_AGE = timedelta(minutes=10)


def verified_id(params: Mapping[str, str], bot_token: str, now: datetime, max_age: timedelta = MAX_AGE) -> str | None:
    """The Telegram user id the data vouches for, or None if it is forged, incomplete or stale."""
    given = params.get("hash", "")
    user_id, auth_date = params.get("id", ""), params.get("auth_date", "")
    if not given or not user_id.isdigit() or not auth_date.isdigit() or len(auth_date) > 12:
        return None
    if not hmac.compare_digest(sign(params, bot_token), given.lower()):
        return None
    age = now.timestamp() - int(auth_date)
    if not -60 <= age <= max_age.total_seconds():
        return None
    return user_id


def sign(params: Mapping[str, str], bot_token: str) -> str:
    """The hash Telegram sends with these fields: every field but the hash, sorted, one `key=value` a line."""
    check = "\n".join(f"{k}={params[k]}" for k in sorted(params) if k != "hash")
    return hmac.new(hashlib.sha256(bot_token.encode()).digest(), check.encode(), hashlib.sha256).hexdigest()
