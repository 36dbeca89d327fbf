"""Who acts, and the audit log that records every moderation action in the same transaction."""

from sqlmodel import Session, col, select

from models.audit import AuditEntry, AuditEntryPublic

Actor = int | None  # None: an admin (with the admin token); otherwise the id of the guest who acts
ADMIN: Actor = None


def actor_name(by: Actor) -> str:
    return "admin" if by is None else f"guest:{by}"


def record(session: Session, *, by: Actor, action: str, target: str, detail: str = "") -> None:
    """An audit entry, written in the same transaction as the action it records."""
    session.add(AuditEntry(actor=actor_name(by), action=action, target=target, detail=detail[:500]))


def audit_log(*, session: Session, limit: int = 100) -> list[AuditEntryPublic]:
    entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)).all()
    return [AuditEntryPublic.model_validate(entry, from_attributes=True) for entry in entries]
