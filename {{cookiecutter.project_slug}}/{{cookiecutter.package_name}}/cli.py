"""Commands run next to the service: load the demo catalogue, verify an address, create alert
rules."""

import argparse
import asyncio
import os

from {{ cookiecutter.package_name }}.checkout.seed import seed_catalogue
from {{ cookiecutter.package_name }}.core.config import get_settings
from {{ cookiecutter.package_name }}.core.db import standalone_session, utcnow
from {{ cookiecutter.package_name }}.observability.alerts import apply_alert_rules
from {{ cookiecutter.package_name }}.users import repository as users_repository


async def seed() -> int:
    async with standalone_session(get_settings().database_url) as session:
        return await seed_catalogue(session)


async def verify_address(email: str) -> bool:
    """Mark an account's address verified, as its link would; False when no account has it."""
    async with standalone_session(get_settings().database_url) as session:
        user = await users_repository.get_by_email(session, email)
        if user is None:
            return False
        user.email_verified_at = user.email_verified_at or utcnow()
        return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="{{ cookiecutter.project_slug }}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seed", help="load the demo products and discount codes")
    users = commands.add_parser("users", help="manage accounts").add_subparsers(
        dest="users_command", required=True
    )
    verify = users.add_parser(
        "verify", help="mark an address verified, for an owner who cannot receive the link"
    )
    verify.add_argument("email")
    alerts = commands.add_parser(
        "alerts", help="create the recommended alert rules (token in SENTRY_AUTH_TOKEN)"
    )
    alerts.add_argument("--org", required=True, help="Sentry organization slug")
    alerts.add_argument("--project", required=True, help="Sentry project slug")
    alerts.add_argument("--url", default="https://sentry.io", help="Sentry server URL")
    args = parser.parse_args(argv)

    if args.command == "seed":
        print(f"Seeded {asyncio.run(seed())} new rows.")
    elif args.command == "users":
        if not asyncio.run(verify_address(args.email)):
            parser.exit(1, f"No account has the address {args.email}\n")
        print(f"Verified {args.email}")
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
