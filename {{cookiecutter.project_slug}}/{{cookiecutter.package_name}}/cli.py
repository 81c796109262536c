"""Commands run next to the service: load the demo catalogue, create the alert rules."""

import argparse
import asyncio
import os

from {{ cookiecutter.package_name }}.checkout.seed import seed_catalogue
from {{ cookiecutter.package_name }}.core.config import get_settings
from {{ cookiecutter.package_name }}.core.db import standalone_session
from {{ cookiecutter.package_name }}.observability.alerts import apply_alert_rules


async def seed() -> int:
    async with standalone_session(get_settings().database_url) as session:
        return await seed_catalogue(session)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="{{ cookiecutter.project_slug }}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seed", help="load the demo products and discount codes")
    alerts = commands.add_parser(
        "alerts", help="create the recommended alert rules (token in SENTRY_AUTH_TOKEN)"
    )
    alerts.add_argument("--org", required=True, help="Sentry organization slug")
    alerts.add_argument("--project", required=True, help="Sentry project slug")
    alerts.add_argument("--url", default="https://sentry.io", help="Sentry server URL")
    args = parser.parse_args(argv)

    if args.command == "seed":
        print(f"Seeded {asyncio.run(seed())} new rows.")
    elif args.command == "alerts":
        token = os.environ.get("SENTRY_AUTH_TOKEN")
        if not token:
            parser.exit(2, "SENTRY_AUTH_TOKEN must hold a token with the alerts:write scope\n")
        names = apply_alert_rules(
            api_url=args.url, organization=args.org, project=args.project, auth_token=token
        )
        print("Created alert rules:", ", ".join(names))


if __name__ == "__main__":
    main()
