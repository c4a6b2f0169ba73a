"""Read-only listings the admin screens need, tenant-scoped like every other service (R3).

The web UI picks users, handsets and CLI numbers from these lists, so what a
person may pick is decided here, next to the rules, not in a template.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from pbx.services.actor import Actor
from pbx.services.errors import Forbidden, NotFound
from pbx.services.lookup import NUMBER_NOT_FOUND, can_see_number, get_number, get_occupier, get_user
from pbx.services.number_search import like_folds_case, search_filter
from pbx.services.numbers import ROW_LOADS, occupier_sites
from pbx.store.models import Handset, NumberStatus, Occupier, PhoneNumber, Site, User


@dataclass(frozen=True)
class UserChoice:
    """R12: every user of the occupier is listed; those with a number cannot be picked."""

    user: User
    number: PhoneNumber | None

    @property
    def selectable(self) -> bool:
        return self.number is None


@dataclass(frozen=True)
class HandsetChoice:
    """R15: a handset of the site; `taken` when any number is logged in to it.

    `number` is set only when the number is the actor's occupier's: a handset shared
    with another occupier shows as taken, without saying by whom (R3).
    """

    handset: Handset
    taken: bool
    number: PhoneNumber | None


def _require_admin(actor: Actor) -> None:
    if not (actor.is_operator or actor.is_occupier_admin):
        raise Forbidden("Only an occupier admin can see this")


def find_user_by_email(session: Session, email: str) -> User | None:
    """For signing in: e-mail addresses are compared without case."""
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def find_signed_in_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def occupier_users(session: Session, actor: Actor, occupier_id: int) -> list[UserChoice]:
    """R12, R29: the occupier's users by name, each with the number they have, if any."""
    _require_admin(actor)
    occupier = get_occupier(session, actor, occupier_id)
    users = session.scalars(
        select(User)
        .where(User.occupier_id == occupier.id)
        .options(joinedload(User.number))
        .order_by(User.first_name, User.last_name, User.id)
    ).all()
    return [UserChoice(u, u.number) for u in users]


def occupier_users_page(
    session: Session, actor: Actor, occupier_id: int, query: str = "", page: int = 1, per_page: int = 50
) -> tuple[list[UserChoice], int]:
    """R29: one page of the occupier's users by name, searched by name, e-mail or number; and how many match."""
    _require_admin(actor)
    occupier = get_occupier(session, actor, occupier_id)
    chosen = select(User).outerjoin(PhoneNumber, PhoneNumber.user_id == User.id).where(User.occupier_id == occupier.id)
    needle = query.strip()[:100]
    if needle:
        fold = like_folds_case(session)
        texts = (User.first_name, User.last_name, User.email, User.first_name + " " + User.last_name)
        ways = [c.contains(needle, autoescape=True) if fold else c.icontains(needle, autoescape=True) for c in texts]
        digits = "".join(ch for ch in needle if ch.isdigit())
        if digits and digits == needle.lstrip("+").replace(" ", ""):
            ways += [PhoneNumber.e164.contains(digits), PhoneNumber.extension.startswith(digits)]
        chosen = chosen.where(or_(*ways))
    total = session.scalar(chosen.with_only_columns(func.count(User.id)).order_by(None)) or 0
    users = session.scalars(
        chosen.options(joinedload(User.number))
        .order_by(User.first_name, User.last_name, User.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return [UserChoice(u, u.number) for u in users], total


def assignable_users(
    session: Session, actor: Actor, number_id: int, query: str = "", limit: int | None = None
) -> list[UserChoice]:
    """R12: the users a number may be assigned to; its own user stays selectable. `query` and `limit`
    find them in a big occupier (by name, e-mail or number) without listing thousands."""
    number = get_number(session, actor, number_id)
    if limit is None and not query:
        choices = occupier_users(session, actor, number.occupier_id)
    else:
        choices, _ = occupier_users_page(session, actor, number.occupier_id, query, 1, limit or 1_000_000)
    return [UserChoice(c.user, None) if c.number is not None and c.number.id == number.id else c for c in choices]


def site_handsets(
    session: Session, actor: Actor, number_id: int, query: str = "", limit: int | None = None
) -> list[HandsetChoice]:
    """R15: the phone IDs of the number's site, for the handset login pop-up; `query` (part of a
    Phone ID, any case) and `limit` find one among thousands."""
    _require_admin(actor)
    number = get_number(session, actor, number_id)
    chosen = (
        select(Handset)
        .where(Handset.site_id == number.site_id)
        .options(joinedload(Handset.number))
        .order_by(Handset.phone_id)
    )
    if query.strip():
        chosen = chosen.where(Handset.phone_id.icontains(query.strip(), autoescape=True))
    handsets = session.scalars(chosen.limit(limit) if limit else chosen).all()
    return [
        HandsetChoice(
            h,
            h.number is not None,
            h.number if h.number is not None and h.number.occupier_id == number.occupier_id else None,
        )
        for h in handsets
    ]


def cli_choices(
    session: Session, actor: Actor, number_id: int, query: str = "", limit: int | None = None
) -> list[PhoneNumber]:
    """R27: the occupier's active numbers at the number's site, the main number included; `query`
    searches them as the Telephony search does (R8), `limit` cuts the list (a site may have thousands)."""
    number = get_number(session, actor, number_id)
    found = search_filter(query, number.site.country, like_folds_case(session))
    chosen = (
        select(PhoneNumber)
        .outerjoin(User, PhoneNumber.user_id == User.id)
        .where(
            PhoneNumber.occupier_id == number.occupier_id,
            PhoneNumber.site_id == number.site_id,
            PhoneNumber.status != NumberStatus.RESERVED,
            PhoneNumber.id != number.id,
            *([found] if found is not None else []),
        )
        .order_by(PhoneNumber.is_main.desc(), func.length(PhoneNumber.extension), PhoneNumber.extension)
    )
    return list(session.scalars(chosen.limit(limit) if limit else chosen))


def numbers_of_user(session: Session, actor: Actor, user_id: int) -> list[PhoneNumber]:
    """R29: the number assigned to a user (none or one), seen from user management."""
    _require_admin(actor)
    user = get_user(session, actor, user_id)
    return [user.number] if user.number is not None else []


def my_number(session: Session, actor: Actor) -> PhoneNumber | None:
    """R30: the signed-in person's own number."""
    if actor.user_id is None:
        return None
    return session.scalar(select(PhoneNumber).where(PhoneNumber.user_id == actor.user_id))


def numbers_by_ids(session: Session, actor: Actor, ids: list[int]) -> list[PhoneNumber]:
    """Re-reading a few rows (the page polls its Pending rows) in one query; any id not visible is not found (R3)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    query = select(PhoneNumber).where(PhoneNumber.id.in_(wanted)).options(*ROW_LOADS)
    if not actor.is_operator:
        query = query.where(PhoneNumber.occupier_id == actor.occupier_id)
    found = {n.id: n for n in session.scalars(query) if can_see_number(actor, n)}
    if len(found) < len(wanted):
        raise NotFound(NUMBER_NOT_FOUND)
    return [found[number_id] for number_id in wanted]


def get_occupier_site(session: Session, actor: Actor, occupier_id: int, site_id: int) -> Site:
    """R7: a site the occupier is based at; any other site is not found (R3)."""
    for site in occupier_sites(session, actor, occupier_id):
        if site.id == site_id:
            return site
    raise NotFound("That site was not found")


# The operator console (R31): the operator sees every occupier, site and handset.


def all_occupiers(session: Session, actor: Actor) -> list[Occupier]:
    actor.require_operator()
    return list(session.scalars(select(Occupier).options(selectinload(Occupier.sites)).order_by(Occupier.name)))


def all_sites(session: Session, actor: Actor) -> list[Site]:
    actor.require_operator()
    return list(
        session.scalars(
            select(Site).options(selectinload(Site.handsets).joinedload(Handset.number)).order_by(Site.name)
        )
    )


def operator_numbers(session: Session, actor: Actor, occupier_id: int) -> list[PhoneNumber]:
    actor.require_operator()
    occupier = get_occupier(session, actor, occupier_id)
    return list(
        session.scalars(
            select(PhoneNumber)
            .where(PhoneNumber.occupier_id == occupier.id)
            .options(joinedload(PhoneNumber.site), *ROW_LOADS)
            .order_by(PhoneNumber.site_id, PhoneNumber.is_main.desc(), PhoneNumber.extension)
        )
    )
