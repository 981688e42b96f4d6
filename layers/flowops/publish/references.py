"""Resolving the non-flow objects a flow YAML names against the live org, as Architect does.

Architect resolves every literal name when it publishes and fails the job with "Unable to find
a <kind> named '<name>'." when one is missing; `OrgObjectResolver` asks the same question first,
through each object's own API (`flowops.genesys.objects`), so validation fails where publish
would. Names match EXACTLY (case and surrounding spaces count, as they do for Architect's
data actions); a case-insensitive near miss is reported as a hint, never accepted. Data actions
match within their integration (Archy's `category`).

Lookups are batched (one call for all user prompts, one per data-action integration, one per
other name) and cached for the resolver's lifetime: one validation run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from flowops.flowyaml import FlowReference
from flowops.genesys.errors import ForbiddenError, GenesysError, NotFoundError
from flowops.genesys.objects import NamedObject, lookup_permission, lookup_supported

# What Architect calls each object type in its publish errors.
ARCHITECT_WORDS: dict[str, str] = {
    "QUEUE": "queue",
    "DATAACTION": "data action",
    "DATATABLE": "data table",
    "USERPROMPT": "user prompt",
    "SYSTEMPROMPT": "system prompt",
    "SCHEDULE": "schedule",
    "SCHEDULEGROUP": "schedule group",
    "ACDSKILL": "skill",
    "ACDLANGUAGE": "language skill",
    "ACDWRAPUPCODE": "wrapup code",
    "EMERGENCYGROUP": "emergency group",
    "GROUP": "group",
    "USER": "user",
    "CONTACTLIST": "contact list",
    "COMPOSERSCRIPT": "script",
    "SCRIPT": "script",
    "WORKTYPE": "worktype",
    "KNOWLEDGEBASE": "knowledge base",
}


def architect_not_found_message(reference: FlowReference) -> str:
    """Architect's own wording for a name it cannot resolve."""
    word = ARCHITECT_WORDS.get(reference.object_type.upper(), reference.object_type.lower())
    in_category = f" in category '{reference.category}'" if reference.category is not None else ""
    return f"Unable to find a {word} named '{reference.name}'{in_category}."


class ObjectLookup(Protocol):
    def find_objects_named(self, object_type: str, names: Sequence[str]) -> list[NamedObject]: ...


@dataclass(frozen=True)
class Resolution:
    status: Literal["found", "missing", "unverifiable"]
    object: NamedObject | None = None
    reason: str = ""
    """missing: a near miss ("did you mean 'Support'?"); unverifiable: why it could not be asked."""


_Key = tuple[str, str | None]  # (object type, lookup key: name, or category for data actions)


class OrgObjectResolver:
    def __init__(self, lookup: ObjectLookup) -> None:
        self._lookup = lookup
        self._candidates: dict[_Key, list[NamedObject]] = {}
        self._failures: dict[_Key, str] = {}

    @property
    def lookups(self) -> int:
        """Distinct (object type, name or integration) lookups answered so far."""
        return len(self._candidates) + len(self._failures)

    def prefetch(self, references: Sequence[FlowReference]) -> None:
        """Look up everything `references` need, batched by object type."""
        wanted: dict[str, list[str | None]] = defaultdict(list)
        for reference in references:
            object_type = reference.object_type.upper()
            if not lookup_supported(object_type):
                continue
            key = self._key(reference)
            known = key in self._candidates or key in self._failures
            if not known and key[1] not in wanted[object_type]:
                wanted[object_type].append(key[1])
        for object_type, keys in wanted.items():
            names = [key for key in keys if key is not None]
            if object_type == "USERPROMPT":
                self._fetch(object_type, names)  # one call, `name` repeated
            else:
                for name in names:
                    self._fetch(object_type, [name])
            if None in keys:  # a data action without an integration: Architect cannot place it
                self._candidates[(object_type, None)] = []

    def resolve(self, reference: FlowReference) -> Resolution:
        object_type = reference.object_type.upper()
        if not lookup_supported(object_type):
            return Resolution("unverifiable", reason="no API looks this kind of object up by name")
        key = self._key(reference)
        if key not in self._candidates and key not in self._failures:
            self.prefetch([reference])
        if key in self._failures:
            return Resolution("unverifiable", reason=self._failures[key])
        candidates = self._candidates.get(key, [])
        if object_type == "DATAACTION":
            candidates = [c for c in candidates if c.category == reference.category]
        exact = [c for c in candidates if c.name == reference.name]
        if exact:
            return Resolution("found", exact[0])
        wanted = reference.name.strip().casefold()
        near = [c.name for c in candidates if c.name is not None and c.name.strip().casefold() == wanted]
        reason = f"did you mean {near[0]!r}? names must match exactly" if near else ""
        return Resolution("missing", reason=reason)

    # ---- internals --------------------------------------------------------------------------

    @staticmethod
    def _key(reference: FlowReference) -> _Key:
        object_type = reference.object_type.upper()
        if object_type == "DATAACTION":
            return (object_type, reference.category)
        return (object_type, reference.name)

    def _fetch(self, object_type: str, names: list[str]) -> None:
        if not names:
            return
        try:
            found = self._lookup.find_objects_named(object_type, names)
        except ForbiddenError:
            permission = lookup_permission(object_type)
            reason = f"the OAuth client may not list them (needs {permission or 'a view permission'})"
            self._failures.update({(object_type, name): reason for name in names})
            return
        except NotFoundError:
            reason = "the org does not offer the API that lists them"
            self._failures.update({(object_type, name): reason for name in names})
            return
        except GenesysError as error:
            self._failures.update({(object_type, name): f"the lookup failed: {error}" for name in names})
            return
        if object_type == "USERPROMPT":
            for name in names:
                self._candidates[(object_type, name)] = [c for c in found if c.name == name] or [
                    c for c in found if (c.name or "").strip().casefold() == name.strip().casefold()
                ]
        elif object_type == "DATAACTION":
            (category,) = names
            self._candidates[(object_type, category)] = found
        else:
            (name,) = names
            self._candidates[(object_type, name)] = found
