"""Hypothesis strategies for small locks drawn from shared id pools, so that two independently
drawn locks overlap (same flows, objects and edges) often enough to exercise every diff kind."""

from __future__ import annotations

from hypothesis import strategies as st

from flowops.lock import FailedObject, LockedDependency, LockedFlow, LockedObject, Lockfile

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


# Strategies are built once at import: building them per draw makes Hypothesis re-validate
# them every time, which costs more than the tests themselves.
flow_fields = st.tuples(
    st.sampled_from(["Main", "Billing", "Support"]), st.sampled_from(FLOW_TYPES), VERSIONS, dependencies
)
object_fields = st.tuples(NAMES, VERSIONS, st.booleans(), st.booleans())
flow_id_lists = st.lists(st.sampled_from(FLOW_IDS), unique=True, max_size=len(FLOW_IDS))
object_key_lists = st.lists(
    st.tuples(st.sampled_from(DEPENDENCY_TYPES), st.sampled_from(OBJECT_IDS + FLOW_IDS[:2])),
    unique=True,
    max_size=6,
)
failed_object_lists = st.lists(
    st.builds(
        FailedObject,
        id=st.sampled_from(FLOW_IDS),
        version=VERSIONS,
        error_code=st.sampled_from([None, "TIMEOUT"]),
    ),
    max_size=2,
    unique_by=lambda failed_object: (failed_object.id, failed_object.version),
)
orgs = st.sampled_from(["dev", "prod"])


@st.composite
def lockfiles(draw: st.DrawFn) -> Lockfile:
    flows = []
    for flow_id in draw(flow_id_lists):
        name, flow_type, version, consumes = draw(flow_fields)
        flows.append(
            LockedFlow(id=flow_id, name=name, type=flow_type, published_version=version, consumes=consumes)
        )
    objects = []
    for object_type, object_id in draw(object_key_lists):
        name, version, deleted, missing = draw(object_fields)
        objects.append(
            LockedObject(
                id=object_id, type=object_type, name=name, version=version, deleted=deleted, missing=missing
            )
        )
    return Lockfile(org=draw(orgs), flows=flows, objects=objects, failed_objects=draw(failed_object_lists))
