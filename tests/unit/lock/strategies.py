"""Hypothesis strategies for small locks drawn from shared id pools, so that two independently
drawn locks overlap (same flows, objects and edges) often enough to exercise every diff kind."""

from __future__ import annotations

from flowops.lock import FailedObject, LockedDependency, LockedFlow, LockedObject, Lockfile
from hypothesis import strategies as st

FLOW_IDS = [f"flow-{index}" for index in range(6)]
OBJECT_IDS = [f"object-{index}" for index in range(5)]
FLOW_TYPES = ["INBOUNDCALL", "COMMONMODULE", "INQUEUECALL"]
DEPENDENCY_TYPES = ["INBOUNDCALLFLOW", "COMMONMODULEFLOW", "DATAACTION", "QUEUE"]
VERSIONS = st.sampled_from([None, "1.0", "2.0", "10.0"])
NAMES = st.text(st.characters(exclude_categories=("Cs",)), max_size=6)

dependencies = st.dictionaries(
    keys=st.tuples(st.sampled_from(DEPENDENCY_TYPES), st.sampled_from(FLOW_IDS + OBJECT_IDS)),
    values=st.tuples(st.sampled_from(["", "Billing", "Queue ü"]), VERSIONS),
    max_size=4,
).map(
    lambda by_key: [
        LockedDependency(type=dependency_type, id=dependency_id, name=name, version=version)
        for (dependency_type, dependency_id), (name, version) in by_key.items()
    ]
)


@st.composite
def locked_flows(draw: st.DrawFn, flow_id: str) -> LockedFlow:
    return LockedFlow(
        id=flow_id,
        name=draw(st.sampled_from(["Main", "Billing", "Support"])),
        type=draw(st.sampled_from(FLOW_TYPES)),
        published_version=draw(VERSIONS),
        consumes=draw(dependencies),
    )


@st.composite
def locked_objects(draw: st.DrawFn, key: tuple[str, str]) -> LockedObject:
    object_type, object_id = key
    return LockedObject(
        id=object_id,
        type=object_type,
        name=draw(NAMES),
        version=draw(VERSIONS),
        deleted=draw(st.booleans()),
        missing=draw(st.booleans()),
    )


@st.composite
def lockfiles(draw: st.DrawFn) -> Lockfile:
    flow_ids = draw(st.lists(st.sampled_from(FLOW_IDS), unique=True, max_size=len(FLOW_IDS)))
    object_keys = draw(
        st.lists(
            st.tuples(st.sampled_from(DEPENDENCY_TYPES), st.sampled_from(OBJECT_IDS + FLOW_IDS[:2])),
            unique=True,
            max_size=6,
        )
    )
    failed = draw(
        st.lists(
            st.builds(
                FailedObject,
                id=st.sampled_from(FLOW_IDS),
                version=VERSIONS,
                error_code=st.sampled_from([None, "TIMEOUT"]),
            ),
            max_size=2,
            unique_by=lambda failed_object: (failed_object.id, failed_object.version),
        )
    )
    return Lockfile(
        org=draw(st.sampled_from(["dev", "prod"])),
        flows=[draw(locked_flows(flow_id)) for flow_id in flow_ids],
        objects=[draw(locked_objects(key)) for key in object_keys],
        failed_objects=failed,
    )
