"""The baked app, built by its own factory, for entry modules that set Sentry up their own way.

The package name comes from `BENCH_PACKAGE` (`orders_service`), as the benchmark sets it.
"""

import importlib
import os
from typing import Any


def create_app() -> Any:
    package = os.environ["BENCH_PACKAGE"]
    config = importlib.import_module(f"{package}.core.config")
    factory = importlib.import_module(f"{package}.app")
    return factory.create_app(config.get_settings())
