from __future__ import annotations


class PathwayError(Exception):
    """Root of every error a coordinator may see; the message says what was wrong and how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class DefinitionError(PathwayError):
    """The pathway file is malformed; the message names the file and the path inside it."""


class NotFound(PathwayError):
    """An unknown patient, event type, alert or other record."""


class InvalidInput(PathwayError):
    """A value given by the user is malformed or out of range."""


class EventNotAllowed(PathwayError):
    """The event is valid in general but not in the patient's current states."""


class GuardRefused(EventNotAllowed):
    """A transition exists from the current state but its conditions on the event's fields are unmet."""


class Conflict(PathwayError):
    """Someone else changed the record first, or it already exists."""


class Busy(Conflict):
    """The database stayed locked by another writer longer than the configured wait; try again."""


class TransientConflict(Conflict):
    """A deadlock or serialization failure between two writers: the transaction may simply be rerun."""


class PossibleDuplicate(PathwayError):
    """A new patient looks like one already enrolled (same name and birth date); confirm to go on."""


class StaleVersion(Conflict):
    """The patient changed since the version the caller last saw (expected_version, If-Match)."""


class PermissionDenied(PathwayError):
    """The acting user's role does not allow this action."""


class DeliveryFailed(PathwayError):
    """A notification channel could not deliver; `permanent` failures are not retried."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
