"""Who is acting, so every service can scope its queries by tenant (R3)."""
from __future__ import annotations

from dataclasses import dataclass

from pbx.services.errors import Forbidden, NotFound
from pbx.store.models import Role, User


@dataclass(frozen=True)
class Actor:
    label: str
    role: Role | None  # None: the system itself (controller, CLI run by the operator's staff)
    user_id: int | None = None
    occupier_id: int | None = None

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(label=label, role=None)

    @classmethod
    def of(cls, user: User) -> "Actor":
        return cls(label=user.email, role=user.role, user_id=user.id, occupier_id=user.occupier_id)

    @property
    def is_operator(self) -> bool:
        return self.role is None or self.role is Role.OPERATOR_ADMIN

    @property
    def is_occupier_admin(self) -> bool:
        return self.role is Role.OCCUPIER_ADMIN

    def require_operator(self) -> None:
        if not self.is_operator:
            raise Forbidden("Only the operator can do this")

    def can_see_occupier(self, occupier_id: int) -> bool:
        return self.is_operator or self.occupier_id == occupier_id

    def check_occupier(self, occupier_id: int, what: str = "That") -> None:
        """R3: another occupier's things are not found, not forbidden, so ids leak nothing."""
        if not self.can_see_occupier(occupier_id):
            raise NotFound(f"{what} was not found")
