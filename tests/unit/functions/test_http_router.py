"""The API handlers' router answers as powertools' APIGatewayRestResolver answered them."""

from __future__ import annotations

import pytest

from flowops.functions._http import Request, Response, RouteNotFoundError, Router


def _event(method: str, path: str, headers: dict[str, str] | None = None) -> dict[str, object]:
    return {"httpMethod": method, "path": path, "headers": headers, "body": "{}", "isBase64Encoded": False}


def _router() -> Router:
    router = Router()

    @router.post("/publish")
    def publish(request: Request) -> Response:
        return Response(status_code=202, body=repr(sorted(request.headers.items())))

    @router.post("/fail")
    def fail(request: Request) -> Response:
        raise KeyError("boom")

    @router.exception_handler(LookupError)
    def lookup(error: LookupError) -> Response:
        return Response(status_code=409, body="lookup")

    return router


def test_a_route_matches_its_method_in_any_case_and_its_path_with_trailing_slashes() -> None:
    router = _router()
    for method, path in [("POST", "/publish"), ("post", "/publish"), ("POST", "/publish//")]:
        assert router.resolve(_event(method, path))["statusCode"] == 202


def test_the_answer_has_the_proxy_integration_shape_and_lower_cased_header_names() -> None:
    answer = _router().resolve(_event("POST", "/publish", {"X-Hub": "1", "x-hub": "2", "Other": "o"}))
    assert answer == {
        "statusCode": 202,
        "body": "[('other', 'o'), ('x-hub', '2')]",
        "isBase64Encoded": False,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
    }


def test_an_error_goes_to_the_handler_of_its_nearest_class_and_an_unhandled_one_propagates() -> None:
    router = _router()
    assert router.resolve(_event("POST", "/fail"))["statusCode"] == 409  # KeyError -> LookupError
    with pytest.raises(RouteNotFoundError):
        router.resolve(_event("GET", "/publish"))  # no handler takes an unknown route here


def test_an_unknown_route_goes_to_the_catch_all_when_it_has_no_handler_of_its_own() -> None:
    router = _router()

    @router.exception_handler(Exception)
    def everything(error: Exception) -> Response:
        return Response(status_code=500, body=type(error).__name__)

    assert router.resolve(_event("POST", "/nope")) | {"multiValueHeaders": None} == {
        "statusCode": 500,
        "body": "RouteNotFoundError",
        "isBase64Encoded": False,
        "multiValueHeaders": None,
    }
