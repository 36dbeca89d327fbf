"""Inline form errors from the services' own validators, so the page and the API say the same."""

from collections.abc import Callable

from services.errors import InvalidInput


def sentence(detail: str) -> str:
    """A service's reason ("the room name must ...") as a sentence for a form field."""
    return detail[:1].upper() + detail[1:]


def problem_of(validate: Callable[[str], object]) -> Callable[[str], str | None]:
    """A NiceGUI `validation=` callback: None when `validate` accepts the value, else its reason."""

    def problem(value: str) -> str | None:
        try:
            validate(value or "")
        except InvalidInput as error:
            return sentence(error.detail)
        return None

    return problem
