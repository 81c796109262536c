from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from {{ cookiecutter.package_name }}.core.db import Base, TimestampMixin, UnloggedString, string_enum


class Plan(StrEnum):
    FREE = "free"
    PRO = "pro"
    ENTERPRISE = "enterprise"


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    hashed_password: Mapped[str] = mapped_column(UnloggedString(255))
    plan: Mapped[Plan] = mapped_column(string_enum(Plan), default=Plan.FREE)
    is_active: Mapped[bool] = mapped_column(default=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(default=None)
    # Access tokens issued before this moment are refused (password change, log-out everywhere).
    tokens_valid_after: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None
