"""Dev vs prod: matching by type and name."""

from __future__ import annotations

from flowops.lock import LockedDependency, LockedFlow, LockedObject, Lockfile, diff_environments


def _dev() -> Lockfile:
    return Lockfile(
        org="dev",
        flows=[
            LockedFlow(
                id="dev-main",
                name="Main IVR",
                type="INBOUNDCALL",
                published_version="7.0",
                consumes=[
                    LockedDependency(id="dev-auth", type="COMMONMODULEFLOW", version="3.0"),
                    LockedDependency(id="dev-queue", type="QUEUE", name="Sales"),
                    LockedDependency(id="dev-action", type="DATAACTION", name="CRM Lookup", version="4"),
                ],
            ),
            LockedFlow(id="dev-auth", name="Authenticate", type="COMMONMODULE", published_version="3.0"),
            LockedFlow(id="dev-new", name="Brand New", type="INBOUNDCHAT", published_version="1.0"),
        ],
        objects=[
            LockedObject(id="dev-queue", type="QUEUE", name="Sales"),
            LockedObject(id="dev-action", type="DATAACTION", name="CRM Lookup", version="4"),
        ],
    )


def _prod() -> Lockfile:
    return Lockfile(
        org="prod",
        flows=[
            LockedFlow(
                id="prod-main",
                name="Main IVR",
                type="INBOUNDCALL",
                published_version="5.0",
                consumes=[
                    LockedDependency(
                        id="prod-auth", type="COMMONMODULEFLOW", name="Authenticate", version="2.0"
                    ),
                    LockedDependency(id="prod-queue", type="QUEUE", name="Sales"),
                    LockedDependency(id="prod-legacy", type="QUEUE", name="Legacy"),
                ],
            ),
            LockedFlow(id="prod-auth", name="Authenticate", type="COMMONMODULE", published_version="2.0"),
            LockedFlow(id="prod-old", name="Old Chat", type="INBOUNDCHAT", published_version="9.0"),
        ],
        objects=[
            LockedObject(id="prod-queue", type="QUEUE", name="Sales", deleted=True),
            LockedObject(id="prod-legacy", type="QUEUE", name="Legacy"),
        ],
    )


def test_flows_and_objects_are_matched_by_type_and_name_despite_different_ids() -> None:
    # Given a dev and a prod lock with different ids for the same flows
    # When the environments are compared
    diff = diff_environments(_dev(), _prod())

    # Then flows match by (object type, name) and the rest are reported per side
    assert diff.matched_flows == 2
    assert [(ref.name, ref.id) for ref in diff.flows_only_in_source] == [("Brand New", "dev-new")]
    assert [(ref.name, ref.id) for ref in diff.flows_only_in_target] == [("Old Chat", "prod-old")]
    assert [(d.name, d.source_version, d.target_version) for d in diff.flow_version_differences] == [
        ("Authenticate", "3.0", "2.0"),
        ("Main IVR", "7.0", "5.0"),
    ]
    assert not diff.is_equivalent


def test_edges_are_compared_by_dependency_name_and_version() -> None:
    diff = diff_environments(_dev(), _prod())

    # The dev dependency on the module has no name of its own: it is named from the dev lock's flow
    assert [(e.dependency_type, e.dependency_name) for e in diff.edges_only_in_source] == [
        ("DATAACTION", "CRM Lookup")
    ]
    assert [(e.dependency_type, e.dependency_name) for e in diff.edges_only_in_target] == [
        ("QUEUE", "Legacy")
    ]
    assert [
        (d.edge.dependency_name, d.source_version, d.target_version) for d in diff.edge_version_differences
    ] == [("Authenticate", "3.0", "2.0")]


def test_object_state_differences_and_one_sided_objects() -> None:
    diff = diff_environments(_dev(), _prod())
    assert [(d.name, d.changed_fields) for d in diff.object_differences] == [("Sales", ["deleted"])]
    assert [ref.name for ref in diff.objects_only_in_source] == ["CRM Lookup"]
    assert [ref.name for ref in diff.objects_only_in_target] == ["Legacy"]


def test_names_used_twice_on_one_side_are_reported_as_ambiguous_not_matched() -> None:
    # Given two prod queues with one name
    prod = Lockfile(
        org="prod",
        objects=[
            LockedObject(id="p1", type="QUEUE", name="Sales"),
            LockedObject(id="p2", type="QUEUE", name="Sales"),
        ],
    )
    dev = Lockfile(org="dev", objects=[LockedObject(id="d1", type="QUEUE", name="Sales")])

    diff = diff_environments(dev, prod)

    assert [(a.side, a.name, a.ids) for a in diff.ambiguous_names] == [("target", "Sales", ["p1", "p2"])]
    assert diff.matched_objects == 0 and not diff.objects_only_in_source and not diff.objects_only_in_target


def test_the_same_state_in_two_orgs_is_equivalent() -> None:
    dev = _dev()
    renamed_ids = Lockfile.model_validate_json(
        dev.model_dump_json().replace('"dev-', '"prod-').replace('"org":"dev"', '"org":"prod"')
    )
    diff = diff_environments(dev, renamed_ids)
    assert diff.is_equivalent, diff
    assert diff.matched_flows == 3 and diff.matched_objects == 2
