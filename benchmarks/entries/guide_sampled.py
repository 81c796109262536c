"""The first guide's `init`, as written: release, environment, 10% traced and 10% profiled."""

import os

import sentry_sdk

sentry_sdk.init(
    dsn=os.environ["SENTRY_DSN"],
    environment=os.environ.get("ENVIRONMENT", "development"),
    release=os.environ.get("GIT_SHA", "unknown"),
    traces_sample_rate=0.1,  # Trace 10% of requests for performance
    profiles_sample_rate=0.1,  # Profile 10% of traced requests
)

from baked_app import create_app  # after Sentry, as the guides say

app = create_app()
