"""The SDK with a DSN and a sample rate, nothing else."""

import os

import sentry_sdk

sentry_sdk.init(os.environ["SENTRY_DSN"], traces_sample_rate=0.1)

from baked_app import create_app  # after Sentry, as the guides say

app = create_app()
