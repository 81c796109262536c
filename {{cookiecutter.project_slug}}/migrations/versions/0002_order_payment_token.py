"""order payment retries: {% if cookiecutter.task_queue == "background" %}the token kept for a retry, {% endif %}pending orders indexed

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

{% if cookiecutter.task_queue == "background" -%}
import sqlalchemy as sa
{% endif -%}
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
{%- if cookiecutter.task_queue == "background" %}
        batch_op.add_column(sa.Column("payment_token", sa.String(length=200), nullable=True))
{%- endif %}
        batch_op.create_index(batch_op.f("ix_orders_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_status"))
{%- if cookiecutter.task_queue == "background" %}
        batch_op.drop_column("payment_token")
{%- endif %}
