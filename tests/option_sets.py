"""The answer sets every baked-project test runs against: one line per supported set."""

OPTION_SETS = {
    "default": {},
    "postgresql": {"database": "postgresql"},
}
