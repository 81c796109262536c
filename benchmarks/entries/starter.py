"""What the most used FastAPI starter ships: every request traced."""

import os

import sentry_sdk

sentry_sdk.init(os.environ["SENTRY_DSN"], enable_tracing=True)

from baked_app import create_app  # after Sentry, as the guides say

app = create_app()
