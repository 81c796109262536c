"""A front end's checkout, traced with Sentry and sent to Spotlight: one trace, end to end.

Run by the baked project's Python (it has sentry-sdk and httpx) for the README's screenshot:

    python checkout_journey.py SERVICE_URL SPOTLIGHT_URL PROJECT_COMMAND

Signs a user up, verifies the address with the project's command (`PROJECT_COMMAND users
verify EMAIL`, run in the project's directory with this process's environment), signs in,
then, inside one transaction as a browser SDK would start it, checks out and asks for a
receipt email. The httpx integration passes the trace on to the service, so
Spotlight shows the service's transactions under this one. Prints the trace id.
"""

import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import sentry_sdk

PASSWORD = "screenshot password"


def main() -> None:
    service_url, spotlight_url, project_command = sys.argv[1:4]
    sentry_sdk.init(
        spotlight=spotlight_url,
        environment="development",
        release="storefront@1.0.0",
        traces_sample_rate=1.0,
    )
    with httpx.Client(base_url=service_url, timeout=30) as client:
        name = f"ada_{uuid.uuid4().hex[:6]}"
        email = f"{name}@example.com"
        user = {"email": email, "username": name, "password": PASSWORD}
        client.post("/api/v1/auth/register", json=user).raise_for_status()
        subprocess.run(
            [project_command, "users", "verify", email],
            cwd=Path(project_command).parents[2],
            check=True,
        )
        login = client.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
        client.headers["Authorization"] = (
            f"Bearer {login.raise_for_status().json()['access_token']}"
        )
        products = client.get("/api/v1/products").raise_for_status().json()
        with sentry_sdk.start_transaction(op="ui.action", name="Checkout") as transaction:
            cart = {
                "items": [{"product_id": products[0]["id"], "quantity": 2}],
                "discount_code": "WELCOME10",
                "payment_token": "tok_visa",
            }
            order = (
                client.post(
                    "/api/v1/checkout",
                    json=cart,
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
                .raise_for_status()
                .json()
            )
            receipt = {
                "to": email,
                "subject": f"Your order {order['id']}",
                "body": f"Thank you: {order['total_cents'] / 100:.2f} paid.",
            }
            client.post("/api/v1/emails/send", json=receipt).raise_for_status()
    sentry_sdk.flush()
    print(transaction.trace_id)


if __name__ == "__main__":
    main()
