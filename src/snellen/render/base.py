"""The rendering contract: a job in, a result out. Both are plain, picklable records so a
pool of local processes today and Ray tasks tomorrow can carry them unchanged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from snellen.languages import LanguageNames
from snellen.records import Record
from snellen.records.checkup import Status

__all__ = ["LANGUAGES", "LanguageRenderer", "RenderJob", "RenderResult", "Status"]

# the names of the registered drawing languages, in order, read at every use (each one's
# facts: snellen.languages)
LANGUAGES = LanguageNames()


@dataclass(frozen=True)
class RenderJob:
    """One program to render. ``size`` asks for a normalised square copy as well.

    ``fallbacks`` are other assemblies of the same reply, ``(name, code)`` pairs (e.g. all
    its fenced blocks joined): when ``code`` does not compile, each is tried in turn and the
    result names the one that rendered (:attr:`RenderResult.assembly`)."""

    id: str
    language: str
    code: str
    size: int | None = None
    timeout: float = 20.0
    fallbacks: tuple[tuple[str, str], ...] = ()


@dataclass
class RenderResult(Record):
    """The outcome of one :class:`RenderJob`. ``png`` is the image at the program's own
    canvas size; ``square_png`` the normalised square copy when one was asked for.

    Not frozen: a renderer fills it in step by step inside its worker. Once it leaves the
    render package it is only read; what a run keeps of it is a frozen
    :class:`~snellen.records.checkup.Drawing` (or ``Reference``)."""

    kind: ClassVar[str] = "render"

    id: str
    language: str
    status: Status
    reason: str = ""
    seconds: float = 0.0
    width: int = 0
    height: int = 0
    png: bytes | None = field(default=None, repr=False)
    square_png: bytes | None = field(default=None, repr=False)
    #: which code the result is for: "" for the job's own code, else a fallback's name
    assembly: str = ""
    #: the decoded image, when the renderer has it (saves decoding ``png`` again); kept in
    #: the worker process only, never sent with the result
    image: Any = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def record_key(self) -> str:
        return self.id

    def to_row(self) -> dict[str, Any]:
        """The outcome without the image bytes (those go to the artifact store)."""
        return {
            "id": self.id, "language": self.language, "status": self.status.value,
            "reason": self.reason, "seconds": self.seconds, "width": self.width,
            "height": self.height,
        }  # fmt: skip


class LanguageRenderer:
    """One language's renderer, living inside a (confined) warm worker process.

    ``start`` pays the fixed costs once (imports, a JVM, a TeX format); ``render`` turns one
    job into a result using only ``job_dir`` for files; ``close`` releases what ``start`` made.
    A renderer never raises for a bad program: it returns a result with a failure status.
    """

    language: str = ""

    def start(self, workspace: str) -> None:  # pragma: no cover - interface
        """Warm up inside ``workspace`` (a directory the worker may write to)."""

    def render(self, job: RenderJob, job_dir: str) -> RenderResult:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - interface
        """Release what ``start`` acquired."""
