"""sdk-minimal with the SDK's span streaming: spans sent as they finish, not as a transaction."""

import os

import sentry_sdk

sentry_sdk.init(os.environ["SENTRY_DSN"], traces_sample_rate=0.1, trace_lifecycle="stream")

from baked_app import create_app  # after Sentry, as the guides say

app = create_app()
