"""The Git server `flowops local up` hosts: one repository, `flows`, whose pushes release.

Pieces, as on AWS with a GitHub repository:
- the Git secret (`flowops/<env>/git` in the local Secrets Manager, fields of docs/git.md),
  holding the local webhook secret (the same value as `/publish`'s) and a status and write token;
  no read token: the server listens on 127.0.0.1 only and asks for none, so the printed remote
  needs no credentials;
- `POST /git/push` on 127.0.0.1: the real `PushReleaser` on the local cloud's clients (state
  table, artifacts bucket, the synthesized Release machine), posting `pending` on the commit —
  the push core runs here in-process rather than in the stack's GitPush function, whose API
  Gateway route the local webhook server does not serve; `GET /runs/<release id>` answers the
  release's status (the commit statuses' link);
- `LocalGitServer` (dulwich smart HTTP), whose receive path delivers the signed GitHub push
  webhook to that endpoint: `git push` to it releases as a push to GitHub would; it also serves
  GitHub's commit statuses API (`/api/v3`) and records what it is sent;
- the stack of a cloud that hosts Git is synthesized with `git` (`LOCAL_GIT_STACK`): the
  Release machine's status-change events reach the real `GitReleaseStatus` function through the
  local EventBridge (final status, then `live/<env>`), and scans end with the drift mirror step.
  Their routes, API base and secret name point here (function environment overrides).
Branch `main` releases to the cloud's environment; the release directory is the repository root.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowops.local.gitserver.server import LocalGitServer

if TYPE_CHECKING:
    from flowops.git.service import PushReleaser
    from flowops.local.runtime.cloud import LocalCloud

REPOSITORY = "flows"
OWNER = "local"
BRANCH = "main"
LOCAL_GIT_STACK: dict[str, Any] = {
    "repositories": [
        {"provider": "github", "repository": f"{OWNER}/{REPOSITORY}", "branches": {BRANCH: "dev"}}
    ]
}
"""cdk.json's `git` for the local stack (one synthesis, cached); `LocalGitHosting` points its
functions at the running server (environment overrides), whatever the environment."""


def git_stack_template() -> dict[str, Any]:
    """The local stack synthesized with `LOCAL_GIT_STACK`: in a checkout from the CDK app (one
    cached synthesis), installed from the template the wheel ships (`make templates` writes it;
    tests/packaging/test_templates.py keeps it current), so both give pushes their final commit
    status and `live/<env>`."""
    from flowops.local.runtime.synth import synth_template

    return synth_template(git=LOCAL_GIT_STACK)


LOCAL_TOKEN = "local"  # the 127.0.0.1 server asks for none; the functions need one to act
RELEASE_STATE_MACHINE = "ReleaseWorkflow/StateMachine"
MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB

logger = logging.getLogger("flowops.local.gitserver")


def _endpoint(hosting: LocalGitHosting) -> ThreadingHTTPServer:
    from flowops.webhook.errors import WebhookError

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            release_id = self.path.removeprefix("/runs/")
            if not self.path.startswith("/runs/") or not release_id.replace("-", "").isalnum():
                self._answer(404, {"message": "only GET /runs/<release id> is served here"})
                return
            found = hosting.release_status(release_id)
            self._answer(200 if found else 404, found or {"message": f"no release {release_id}"})

        def do_POST(self) -> None:
            length_text = self.headers.get("Content-Length") or ""
            if self.path != "/git/push":
                self._answer(404, {"message": "only POST /git/push is served here"})
                return
            if not (length_text.isascii() and length_text.isdigit()):
                self._answer(411, {"message": "a Content-Length is required"})
                return
            if int(length_text) > MAX_BODY_BYTES:
                self.close_connection = True
                self._answer(413, {"message": f"payloads are limited to {MAX_BODY_BYTES} bytes"})
                return
            body = self.rfile.read(int(length_text))
            try:
                answer = hosting.releaser().accept(body, dict(self.headers.items()))
                self._answer(200, json.loads(answer.model_dump_json()))
            except WebhookError as error:
                self._answer(error.status_code, {"message": error.message, "code": error.code})
            except Exception as error:  # the function's 500: the provider may redeliver
                logger.exception("git push failed unexpectedly")
                self._answer(500, {"message": "internal error", "code": type(error).__name__})

        def _answer(self, status: int, answer: dict[str, Any]) -> None:
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            logger.info("git push endpoint %s", format % args)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


class LocalGitHosting:
    """The `flows` repository of a local cloud over smart HTTP; pushes to `main` release to
    `environment`. Start with `with LocalGitHosting(...) as hosting: hosting.remote_url`."""

    def __init__(
        self, cloud: LocalCloud, *, root: Path, org: str, environment: str, webhook_secret: str
    ) -> None:
        self.cloud = cloud
        self.root = root
        self.org = org
        self.environment = environment
        self._webhook_secret = webhook_secret
        self.secret_id = f"flowops/{environment}/git"
        self._endpoint: ThreadingHTTPServer | None = None
        self._releaser: PushReleaser | None = None
        self.server: LocalGitServer | None = None
        self.remote_url = ""
        self.endpoint_url = ""

    def __repr__(self) -> str:  # never shows the secret
        return f"LocalGitHosting({self.remote_url!r}, environment={self.environment!r})"

    def routing(self) -> dict[str, Any]:
        """The route of the hosted repository, as cdk.json's `git.repositories` spells it."""
        return {
            "repositories": [
                {
                    "provider": "github",
                    "repository": f"{OWNER}/{REPOSITORY}",
                    "branches": {BRANCH: self.environment},
                    "cloneUrl": self.remote_url,
                }
            ]
        }

    def releaser(self) -> PushReleaser:
        if self._releaser is None:
            raise RuntimeError("the Git hosting is not started")
        return self._releaser

    def _build_releaser(self, server: LocalGitServer) -> PushReleaser:
        from flowops.git.adapters import (
            DynamoDeliveryLog,
            DynamoStatusTargets,
            SecretsManagerGitSecrets,
            StepFunctionsReleaseStarter,
        )
        from flowops.git.factory import smart_http_reader
        from flowops.git.routing import GitRouting
        from flowops.git.service import PushReleaser
        from flowops.git.status import CommitStatusClient, PushStatusReporter

        function = self.cloud.function_environment("CheckDependencyIndex")
        secrets = SecretsManagerGitSecrets(
            self.secret_id, max_age_seconds=0, client=self.cloud.client("secretsmanager")
        )
        dynamodb = self.cloud.client("dynamodb")
        return PushReleaser(
            routing=GitRouting.model_validate(self.routing()),
            environments=frozenset({self.environment}),
            secrets=secrets,
            deliveries=DynamoDeliveryLog(function["STATE_TABLE"], client=dynamodb),
            starter=StepFunctionsReleaseStarter(
                self.cloud.state_machine_arn(RELEASE_STATE_MACHINE),
                org=self.org,
                bucket=function["ARTIFACTS_BUCKET"],
                sfn=self.cloud.client("stepfunctions"),
                s3=self.cloud.client("s3"),
            ),
            reader_factory=smart_http_reader,
            # `pending` on the pushed commit, as the GitPush function posts it on AWS.
            statuses=PushStatusReporter(
                CommitStatusClient(
                    github_api=server.api_url,
                    tokens={"github": secrets.status_token("github"), "gitlab": None},
                ),
                DynamoStatusTargets(function["STATE_TABLE"], client=dynamodb),
                run_url=self.run_url,
            ),
        )

    @property
    def run_url(self) -> str:
        return f"{self.endpoint_url}/runs"

    def release_status(self, release_id: str) -> dict[str, Any] | None:
        """What `GET /runs/<release id>` answers: the release execution's status."""
        sfn = self.cloud.client("stepfunctions")
        machine = self.cloud.state_machine_arn(RELEASE_STATE_MACHINE)
        arn = f"{machine.replace(':stateMachine:', ':execution:')}:{release_id}"
        try:
            description = sfn.describe_execution(executionArn=arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            return None
        return {
            "release_id": release_id,
            "status": description["status"],
            "error": description.get("error"),
            "cause": description.get("cause"),
        }

    def _create_secret(self) -> None:
        secrets = self.cloud.client("secretsmanager")
        document = {
            "github_webhook_secret": self._webhook_secret,
            "github_status_token": LOCAL_TOKEN,
            "github_write_token": LOCAL_TOKEN,
        }
        try:
            secrets.describe_secret(SecretId=self.secret_id)
        except secrets.exceptions.ResourceNotFoundException:
            secrets.create_secret(Name=self.secret_id, SecretString=json.dumps(document))

    def _point_functions_here(self, server: LocalGitServer) -> None:
        """The stack's Git functions (when it has them) use this server and this secret."""
        self.cloud.runner.env_overrides.update(
            {
                "GIT_SECRET_ID": self.secret_id,
                "GIT_ROUTING": json.dumps(self.routing()),
                "GIT_GITHUB_API": server.api_url,
                "GIT_RUN_URL": self.run_url,
            }
        )

    def start(self) -> LocalGitHosting:
        self._create_secret()
        self._endpoint = _endpoint(self)
        threading.Thread(target=self._endpoint.serve_forever, name="git-push-endpoint", daemon=True).start()
        self.endpoint_url = f"http://127.0.0.1:{self._endpoint.server_address[1]}"
        webhook_url = f"{self.endpoint_url}/git/push"
        try:
            self.server = LocalGitServer(
                self.root, webhook_url=webhook_url, secret=self._webhook_secret, owner=OWNER
            ).start()
            self.server.create_repository(REPOSITORY)
            self.remote_url = self.server.url(REPOSITORY)
            self._releaser = self._build_releaser(self.server)
            self._point_functions_here(self.server)
        except BaseException:
            self.stop()
            raise
        logger.info(
            "local git: %s (branch %s releases to %s, webhook %s)",
            self.remote_url,
            BRANCH,
            self.environment,
            webhook_url,
        )
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self._endpoint is not None:
            self._endpoint.shutdown()
            self._endpoint.server_close()
            self._endpoint = None

    def __enter__(self) -> LocalGitHosting:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def demo_push(cloud: LocalCloud, *, org: str, environment: str, workdir: Path) -> list[str]:
    """`make demo`'s push: host the repository, commit one new flow with the real `git`, push
    `main`, wait for the release it starts and for its status-change events (the stack with
    `git`: `GitReleaseStatus` posts the final status and commits `live/<env>`), then read back
    the commit's statuses and what `live/<env>` holds. Lines to print; one line when `git` is
    missing."""
    import os
    import shutil
    import subprocess
    import tempfile

    from flowops.flowyaml.render import render_minimal_flow_yaml
    from flowops.local.runtime.execution import wait_for_execution
    from flowops.local.webhook_server import LOCAL_WEBHOOK_SECRET

    if shutil.which("git") is None:
        return ["skipped: no `git` on the PATH"]
    author = {"GIT_AUTHOR_NAME": "Demo", "GIT_AUTHOR_EMAIL": "demo@example.com", "GIT_TERMINAL_PROMPT": "0"}
    env = {**os.environ, **author, "GIT_COMMITTER_NAME": "Demo", "GIT_COMMITTER_EMAIL": "demo@example.com"}

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"git {args[0]} failed: {done.stderr.strip()[:300]}")
        return done.stdout.strip()

    with (
        tempfile.TemporaryDirectory(prefix="flowops-git-") as root,
        LocalGitHosting(
            cloud, root=Path(root), org=org, environment=environment, webhook_secret=LOCAL_WEBHOOK_SECRET
        ) as hosting,
    ):
        work = workdir
        shutil.rmtree(work, ignore_errors=True)
        (work / "flows" / "inboundCall").mkdir(parents=True)
        (work / "environments").mkdir()
        (work / "flows" / "inboundCall" / "git-demo-line.yaml").write_text(
            render_minimal_flow_yaml("INBOUNDCALL", "Git Demo Line", [], description="pushed with git")
        )
        (work / "environments" / f"{environment}.yaml").write_text("substitutions: {}\n")
        git("init", "-q", "-b", BRANCH)
        git("add", "-A")
        git("commit", "-q", "-m", "Git Demo Line")
        sha = git("rev-parse", "HEAD")
        git("push", "-q", hosting.remote_url, BRANCH)
        assert hosting.server is not None
        answer = hosting.server.deliveries[-1].answer if hosting.server.deliveries else {}
        lines = [f"git push {hosting.remote_url} {BRANCH} ({sha[:12]}) -> webhook: {answer.get('status')}"]
        if answer.get("status") == "started":
            result = wait_for_execution(cloud, str(answer["execution_arn"]), timeout=300, poll_interval=0.2)
            lines.append(f"release {result.name}: {result.status}")
            cloud.events.drain(timeout=300)  # the status function: final status, then live/<env>
            states = [s.state for s in hosting.server.status_api.of(f"{OWNER}/{REPOSITORY}", sha)]
            lines.append(f"commit {sha[:12]} status flowops/{environment}: {' -> '.join(states) or 'none'}")
            live = f"live/{environment}"
            try:
                git("fetch", "-q", hosting.remote_url, live)
            except RuntimeError:
                lines.append(f"{live}: not written")
                return lines
            files = git("ls-tree", "-r", "--name-only", "FETCH_HEAD").splitlines()
            author = git("log", "-1", "--format=%an, committed by %cn", "FETCH_HEAD")
            lines.append(f"{live} holds {', '.join(files)} (author {author})")
        elif answer:
            lines.append(f"nothing released: {answer.get('reason') or answer.get('message')}")
        return lines
