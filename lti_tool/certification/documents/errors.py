"""Why a certification document cannot be printed: each a page of its own, never a 500."""

from __future__ import annotations


class DocumentError(Exception):
    """A document cannot be printed; the pages say why in the reader's language."""


class PdfUnavailableError(DocumentError):
    """WeasyPrint or a library it needs is missing on this machine; the message names it."""


class UnknownFrameworkError(DocumentError):
    """The session's référentiel is no longer installed: nothing to print its blocs from."""


class NotPrintableError(DocumentError):
    """The credential is not of the kind asked for, or its decision is not a validation."""


class RevokedCredentialError(DocumentError):
    """The credential was revoked: its certificate is no longer delivered."""

    def __init__(self, reason: str | None) -> None:
        super().__init__(reason or "")
        self.reason = reason
