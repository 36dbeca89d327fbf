"""Form helpers: errors from the services' own validators (so the page and the API say the same), and confirmations."""

from collections.abc import Callable

from nicegui import ui

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


async def confirm(question: str, detail: str, action: str, *, testid: str) -> bool:
    """Ask before something that cannot be undone; True if the user chose `action`."""
    with ui.dialog() as dialog, ui.card().classes("max-w-md"):
        dialog.props["aria-label"] = question  # its name for screen readers
        ui.label(question).classes("text-base font-semibold")
        ui.label(detail).classes("text-sm chat-muted")
        with ui.row().classes("justify-end w-full"):
            ui.button("Cancel", on_click=lambda: dialog.submit(False)).props("flat no-caps")
            ui.button(action, on_click=lambda: dialog.submit(True)).props(
                f"unelevated no-caps color=negative data-testid={testid}"
            )
    chosen = bool(await dialog)
    dialog.delete()
    return chosen
