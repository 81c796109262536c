"""The second guide's `init`, as written (its DSN placeholder replaced): every request traced."""

import os

import sentry_sdk
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration

sentry_sdk.init(
    dsn=os.environ["SENTRY_DSN"],
    integrations=[
        FastApiIntegration(),
        StarletteIntegration(),
    ],
    environment="production",
    release="api@1.2.3",
    traces_sample_rate=1.0,
)

from baked_app import create_app  # after Sentry, as the guides say

app = create_app()
