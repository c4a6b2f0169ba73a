"""Who is acting, so every service can scope its queries by tenant (R3) and check rights once."""

from __future__ import annotations

from dataclasses import dataclass

from pbx.services.errors import Forbidden, NotFound
from pbx.store.models import Role, User


@dataclass(frozen=True)
class Actor:
    """A person or process on whose behalf a service runs.

    Five kinds: the system (operator staff at the CLI, the demo seeder: operator
    rights), a signed-in user with a role, a handset: the person at a desk phone
    who acts for one number, the one logged in there or the one whose PIN they just
    proved (R16), and the voice portal (R42): a caller, from anywhere, acting for the
    one number whose PIN they proved. A handset or the portal can do what that
    number's own user can, never more (never the operator's R22 code).
    """

    label: str
    role: Role | None  # None: the system or a handset
    user_id: int | None = None
    occupier_id: int | None = None
    phone_id: str | None = None  # set for a handset
    number_id: int | None = None  # a handset's (or the portal's) number: the only one it may act on
    portal_site_id: int | None = None  # set for the voice portal (R42): the site whose portal was called

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(label=label, role=None)

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(label=user.email, role=user.role, user_id=user.id, occupier_id=user.occupier_id)

    @classmethod
    def handset(cls, phone_id: str, occupier_id: int | None, number_id: int | None) -> Actor:
        return cls(
            label=f"handset {phone_id}", role=None, occupier_id=occupier_id, phone_id=phone_id, number_id=number_id
        )

    @classmethod
    def portal(cls, site_id: int, occupier_id: int | None, number_id: int | None, via: str = "") -> Actor:
        """R42: the portal's caller; `via`: the calling handset's phone ID, for the audit log only."""
        label = f"voice portal (site {int(site_id)}{', handset ' + via if via else ''})"
        return cls(label=label, role=None, occupier_id=occupier_id, number_id=number_id, portal_site_id=site_id)

    @property
    def is_handset(self) -> bool:
        return self.phone_id is not None

    @property
    def is_portal(self) -> bool:
        return self.portal_site_id is not None

    @property
    def is_operator(self) -> bool:
        return (self.role is None and not self.is_handset and not self.is_portal) or self.role is Role.OPERATOR_ADMIN

    @property
    def is_occupier_admin(self) -> bool:
        return self.role is Role.OCCUPIER_ADMIN

    @property
    def is_admin(self) -> bool:
        """The operator or an occupier admin: may manage every number it can see."""
        return self.is_operator or self.is_occupier_admin

    @property
    def own_occupier_id(self) -> int:
        """The occupier an occupier admin or user belongs to; the operator has none to manage here."""
        if self.occupier_id is None:
            raise Forbidden("Only people of an occupier can do this")
        return self.occupier_id

    def require_operator(self) -> None:
        if not self.is_operator:
            raise Forbidden("Only the operator can do this")

    def can_see_occupier(self, occupier_id: int) -> bool:
        return self.is_operator or self.occupier_id == occupier_id

    def holds(self, number_id: int, number_user_id: int | None) -> bool:
        """R30, R16: a user's own number; a handset's number; the portal's proved number (R42)."""
        if self.is_handset or self.is_portal:
            return self.number_id == number_id
        return self.user_id is not None and self.user_id == number_user_id

    def check_occupier(self, occupier_id: int, what: str = "That") -> None:
        """R3: another occupier's things are not found, not forbidden, so ids leak nothing."""
        if not self.can_see_occupier(occupier_id):
            raise NotFound(f"{what} was not found")
