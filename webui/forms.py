"""The pages' forms (Flask-WTF), each field labelled as the person sees it.

A form checks only the shape of what was sent (an id picked from a list, a field
filled in); the rules stay in the services. When a service refuses fields
(InvalidInput, FieldErrors) the view puts each message beside its field with
`show_refusal`, worded with that field's label; any other refusal is the page's
banner.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, PasswordField, StringField
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from pbx.services.errors import InvalidInput, PbxError
from webui.errors import labelled, messages_of, status_of

ROLE_LABELS = {"user": "User", "occupier_admin": "Occupier admin"}
# The services' names of the allocate form's fields, where they differ.
ALLOCATE_FIELDS = {"number": "e164"}


def ask(field: Field, what: str) -> str:
    """A form's own message about one of its fields, worded with the field's label."""
    return f"{field.label.text}: {what}"


class PickedId(Field):
    """An id picked from a drop-down; anything else asks to pick one (`what`: "an occupier")."""

    widget = TextInput()

    def __init__(self, label: str, what: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.what = what

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = valuelist[0].strip() if valuelist else ""
        self.data = int(raw) if raw.isdigit() else None

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data is None:
            raise StopValidation(ask(self, f"pick {self.what}"))


class Filled(StringField):
    """Text the person must type; whether what was typed is right is the service's rule."""

    def __init__(self, label: str, ask: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.ask = ask

    def pre_validate(self, form: FlaskForm) -> None:
        if not (self.data or "").strip():
            raise StopValidation(ask(self, self.ask))


class Choice(StringField):
    """One of a few values, sent by a drop-down."""

    def __init__(self, label: str, choices: dict[str, str], ask: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.choices, self.ask = choices, ask

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data not in self.choices:
            raise StopValidation(ask(self, self.ask))


def show_refusal(form: FlaskForm, refusal: InvalidInput, fields: dict[str, str] | None = None) -> list[str]:
    """Each field the service refused, beside the form's field (`fields`: service name -> form field name).

    Returns the messages that belong to no field of the form, for the page's banner.
    """
    elsewhere = []
    for name, message in messages_of(refusal).items():
        field = form._fields.get((fields or {}).get(name, name))
        if field is None:
            elsewhere.append(labelled(name, message))
            continue
        field.errors = [*field.errors, labelled(name, message, field.label.text)]
    return elsewhere


class Submission:
    """A form's call to the services: a 400 refusal is kept to show on the page, others go on to webui.errors.

    with Submission(form, fields) as sent, unit_of_work() as db:
        ...
    if sent.refused:
        return page(form, sent.banner, 400)
    """

    def __init__(self, form: FlaskForm, fields: dict[str, str] | None = None) -> None:
        self.form, self.fields = form, fields
        self.refused = False
        self.banner: list[str] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> bool:
        if isinstance(error, InvalidInput):
            self.banner.extend(show_refusal(self.form, error, self.fields))
        elif isinstance(error, PbxError) and status_of(error) == 400:
            self.banner.append(error.message)  # RuleBroken, Conflict: about the whole form
        else:
            return False
        self.refused = True
        return True


class SignInForm(FlaskForm):
    email = Filled("E-mail address", "enter the e-mail address you sign in with")
    password = PasswordField("Password")
    next = HiddenField()

    def validate_password(self, field: PasswordField) -> None:
        if not field.data:
            raise StopValidation(ask(field, "enter your password"))


class AddUserForm(FlaskForm):
    """R29: an occupier admin adds a user or an admin to their occupier."""

    first_name = StringField("First name")
    last_name = StringField("Last name")
    email = StringField("E-mail address")
    password = PasswordField("First password")
    role = Choice("Role", ROLE_LABELS, "pick User or Occupier admin", default="user")


class AllocateForm(FlaskForm):
    """R4: the operator allocates a number (Reserved) to an occupier at a site."""

    occupier = PickedId("Occupier", "an occupier")
    site = PickedId("Site", "a site")
    e164 = StringField("Phone number")
    extension = StringField("Extension")
    default_pin = StringField("Default PIN")


class RegisterHandsetForm(FlaskForm):
    site = PickedId("Site", "a site")
    phone_id = StringField("Phone ID")


class MainNumberForm(FlaskForm):
    """R5: what the main number rings: an extension or a number."""

    destination = StringField("Destination")


class AuthorizationCodeForm(FlaskForm):
    """R22: set (digits) or clear a number's authorization code; the services check the code."""

    code = StringField("Authorization code")
    action = HiddenField()


class ActivateForm(FlaskForm):
    """R4: Reserved to Active; nothing to fill in but the CSRF token."""


class VoiceServicesForm(FlaskForm):
    """R2: switch an occupier's voice services on or off."""

    active = HiddenField()


class Ticked(Field):
    """The values of the ticked boxes that share this field's name."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = [v for v in valuelist if v]


class CallPolicyForm(FlaskForm):
    """R39: the classes of destination an occupier's calls and forwards may reach."""

    classes = Ticked("Outbound calls")
