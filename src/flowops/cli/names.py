"""Flows (and other objects) named the way people name them: by id, by name, by name + type.

One resolver for every command, so `publish --flow`, `trace --flow`, `graph impact` and the
others agree on what a reference means:

1. exactly a known id (any case) → that object;
2. otherwise a name: the objects with exactly that name (narrowed by `--type` when given);
   none with that exact spelling → the ones whose name matches ignoring case;
3. one match → it; several → a usage error listing the candidates (name, type, id) and how
   to pick one; none → a usage error with the closest names.

A name is never taken for an id because of what it looks like: a DNIS such as `18005551234`
or a hex-looking name is an id only if it IS one. Every command passes the objects it knows
(the lock's flows and objects) as `Named` entries.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from flowops.cli import exit_codes
from flowops.cli.terminal import labelled

CANDIDATES_SHOWN = 10


class Named(BaseModel):
    """Something a command can be pointed at: a flow (`type` is its flow type) or an object
    (`type` is its dependency-tracking type, e.g. QUEUE, DATAACTION, COMMONMODULEFLOW)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str = ""
    type: str = ""
    is_flow: bool = False

    @property
    def label(self) -> str:
        return labelled(self.id, self.name)

    def candidate(self) -> str:
        return f"{self.name or '(no name)'} ({self.type}, {self.id})"


class NameResolutionError(Exception):
    """The reference names nothing, or more than one thing; `exit_code` is a usage error."""

    def __init__(self, message: str, candidates: Sequence[Named] = ()) -> None:
        super().__init__(message)
        self.candidates = list(candidates)
        self.exit_code = exit_codes.USAGE_ERROR


def flow_types() -> tuple[str, ...]:
    """The flow types Architect YAML and the flows API know (flowops.flowyaml.flow_types)."""
    from flowops.flowyaml.flow_types import all_flow_types

    return tuple(info.flow_type for info in all_flow_types())


def normalise_flow_type(value: str | None) -> str | None:
    """`--type` upper-cased and checked against the flow types the platform has; a usage
    error naming the valid ones otherwise (never a traceback)."""
    if value is None:
        return None
    wanted = value.strip().upper()
    known = flow_types()
    if wanted in known:
        return wanted
    close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}?" if close else f"use one of: {', '.join(known)}"
    raise NameResolutionError(f"unknown --type {value!r}; {hint}")


def _type_matches(entry: Named, wanted: str | None) -> bool:
    if wanted is None:
        return True
    # A flow type (INBOUNDCALL) also picks the flow's dependency-tracking type (INBOUNDCALLFLOW).
    return entry.type.upper() in {wanted, f"{wanted}FLOW"}


def resolve(
    reference: str,
    entries: Iterable[Named],
    *,
    type_filter: str | None = None,
    what: str = "flow",
) -> Named:
    """The one entry `reference` names (see the module docstring); NameResolutionError else."""
    text = reference.strip()
    if not text:
        raise NameResolutionError(f"empty {what} reference: give an id or a name")
    known = list(entries)
    by_id = [entry for entry in known if entry.id.lower() == text.lower()]
    if by_id:
        found = by_id[0]
        if not _type_matches(found, type_filter):
            raise NameResolutionError(
                f"{what} {found.label} is a {found.type}, not a {type_filter}: drop --type or fix it"
            )
        return found
    typed = [entry for entry in known if _type_matches(entry, type_filter)]
    exact = [entry for entry in typed if entry.name == text]
    matches = exact or [entry for entry in typed if entry.name.casefold() == text.casefold()]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        types = sorted({entry.type for entry in matches})
        how = (
            "pass the id"
            if type_filter or len(types) == 1
            else f"pass --type ({' or '.join(types)}) or the id"
        )
        shown = "; ".join(entry.candidate() for entry in matches[:CANDIDATES_SHOWN])
        more = f"; and {len(matches) - CANDIDATES_SHOWN} more" if len(matches) > CANDIDATES_SHOWN else ""
        raise NameResolutionError(
            f"{len(matches)} {what}s are called {text!r}: {shown}{more} — {how}", matches
        )
    scope = f" of type {type_filter}" if type_filter else ""
    names = sorted({entry.name for entry in typed if entry.name})
    close = difflib.get_close_matches(text, names, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(repr(name) for name in close)}?" if close else "check the spelling"
    if type_filter and not close and any(entry.name == text for entry in known):
        hint = "a flow of that name exists with another type: drop or fix --type"
    raise NameResolutionError(
        f"no {what}{scope} has the id or name {text!r} in the lock: {hint} "
        "(a flow created since the last scan needs `flowops scan` first)"
    )


def lock_flows(lock: Any) -> list[Named]:
    """The flows of a lock as resolvable entries."""
    return [Named(id=flow.id, name=flow.name, type=flow.type, is_flow=True) for flow in lock.flows]


def lock_entries(lock: Any) -> list[Named]:
    """Every node of a lock: its flows, then the objects they consume (queues, data actions,
    ...). A flow also appears among the objects under its dependency-tracking type; it is
    listed once, as a flow."""
    entries = lock_flows(lock)
    flow_ids = {entry.id for entry in entries}
    entries += [
        Named(id=obj.id, name=obj.name, type=obj.type) for obj in lock.objects if obj.id not in flow_ids
    ]
    return entries


def names_by_id(lock: Any) -> dict[str, str]:
    """id → name of every flow and object of a lock (what printing names beside ids needs)."""
    names: dict[str, str] = {}
    for obj in lock.objects:
        if obj.name:
            names[obj.id] = obj.name
    for flow in lock.flows:
        for dependency in flow.consumes:
            if dependency.name:
                names.setdefault(dependency.id, dependency.name)
        names[flow.id] = flow.name
    return names


def label_of(identifier: str, names: dict[str, str]) -> str:
    return labelled(identifier, names.get(identifier))
