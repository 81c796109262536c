"""Commands run next to the service: `{{ cookiecutter.project_slug }} seed`."""

import argparse
import asyncio

from {{ cookiecutter.package_name }}.checkout.seed import seed_catalogue
from {{ cookiecutter.package_name }}.core.config import get_settings
from {{ cookiecutter.package_name }}.core.db import create_engine, create_sessionmaker


async def seed() -> int:
    engine = create_engine(get_settings().database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            return await seed_catalogue(session)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="{{ cookiecutter.project_slug }}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seed", help="load the demo products and discount codes")
    args = parser.parse_args(argv)
    if args.command == "seed":
        print(f"Seeded {asyncio.run(seed())} new rows.")


if __name__ == "__main__":
    main()
