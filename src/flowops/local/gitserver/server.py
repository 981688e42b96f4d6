"""The local Git server: dulwich's smart HTTP server (a real Git server: `git clone`, `git push`
speak to it as to GitHub) plus GitHub's push webhook, delivered after each accepted push, and
GitHub's commit statuses API (`flowops.local.gitserver.statuses`, under `/api/v3`).

GitHub delivers a push webhook once the refs moved; here the receive-pack request is wrapped:
refs are read before and after dulwich handles it, and every moved branch or tag becomes one
signed delivery to the local webhook endpoint (synchronously, so `git push` returns after it).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIServer

from dulwich.objects import ObjectID
from dulwich.repo import Repo
from dulwich.server import FileSystemBackend
from dulwich.web import WSGIRequestHandlerLogger, WSGIServerLogger, make_server, make_wsgi_chain

from flowops.local.gitserver.payload import ZERO, push_payload
from flowops.local.gitserver.statuses import API_PREFIX, LocalStatusApi
from flowops.webhook.signature import sign

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")
_DELIVERY_TIMEOUT = 30.0
MAX_FORCED_WALK = 5000


@dataclass
class Delivery:
    delivery_id: str
    ref: str
    before: str
    after: str
    status: int
    answer: dict[str, Any] = field(default_factory=dict)


class _ThreadingServer(ThreadingMixIn, WSGIServerLogger):
    """Threaded: the webhook reads the pushed commit back while the push request is still open."""

    daemon_threads = True


class _RootBackend(FileSystemBackend):
    """dulwich's file-system backend, with URL paths (`/name.git`) taken relative to the root."""

    def open_repository(self, path: str | bytes) -> Any:
        text = os.fsdecode(path) if isinstance(path, bytes) else path
        return super().open_repository(text.lstrip("/"))


def _refs(repo: Repo) -> dict[str, str]:
    return {
        name.decode(): sha.decode()
        for name, sha in repo.get_refs().items()
        if name.startswith((b"refs/heads/", b"refs/tags/"))
    }


class LocalGitServer:
    """Bare repositories under `root` (`<name>.git`) on http://127.0.0.1:<port>/<name>.git."""

    def __init__(
        self,
        root: Path,
        *,
        webhook_url: str,
        secret: str,
        token: str | None = None,
        owner: str = "local",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.root = root
        self.webhook_url = webhook_url
        self._secret = secret
        self._token = token
        self.owner = owner
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        root.mkdir(parents=True, exist_ok=True)
        # GitHub's commit statuses API on the same host, as GitHub Enterprise serves it (/api/v3).
        self.status_api = LocalStatusApi(root, owner=owner, token=token, base_url=lambda: self.base_url)
        inner = make_wsgi_chain(_RootBackend(str(root)))
        self._server: WSGIServer = make_server(
            host,
            port,
            self._app(inner),
            handler_class=WSGIRequestHandlerLogger,
            server_class=_ThreadingServer,
        )
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"LocalGitServer({self.base_url!r})"

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}.git"

    @property
    def api_url(self) -> str:
        """The REST API base flowops posts commit statuses to (`github_api`)."""
        return f"{self.base_url}{API_PREFIX}"

    def create_repository(self, name: str) -> str:
        """An empty bare repository `name` (idempotent); its clone URL."""
        if not name or set(name) - _NAME_CHARS or name.startswith("."):
            raise ValueError(f"repository names are lower case letters, digits, '-', '_' and '.': {name!r}")
        path = self.root / f"{name}.git"
        if not path.exists():
            Repo.init_bare(str(path), mkdir=True)
            # Receive-pack refuses nothing by default; HEAD names the branch a clone checks out.
            (path / "HEAD").write_text("ref: refs/heads/main\n")
        return self.url(name)

    def start(self) -> LocalGitServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="git-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalGitServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- WSGI -----------------------------------------------------------------------------------

    def _authorized(self, environ: dict[str, Any]) -> bool:
        if self._token is None:
            return True
        header = environ.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Basic "):
            return False
        try:
            _user, _, password = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(password.encode(), self._token.encode())

    def _app(self, inner: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if str(environ.get("PATH_INFO", "")).startswith(f"{API_PREFIX}/"):
                return self.status_api(environ, start_response)
            if not self._authorized(environ):
                start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="flowops local git"')])
                return [b"token required\n"]
            path = str(environ.get("PATH_INFO", ""))
            if environ.get("REQUEST_METHOD") != "POST" or not path.endswith("/git-receive-pack"):
                return inner(environ, start_response)
            name = path.strip("/").removesuffix("/git-receive-pack")
            repo_path = self.root / name
            if not (repo_path.parent == self.root and repo_path.is_dir()):
                return inner(environ, start_response)
            # One push at a time per server: the before/after ref snapshots must bracket one push.
            with self._lock:
                repo = Repo(str(repo_path))
                before = _refs(repo)
                body = b"".join(inner(environ, start_response))
                after = _refs(Repo(str(repo_path)))
                self._deliver_changes(Repo(str(repo_path)), name.removesuffix(".git"), before, after)
            return [body]

        return app

    def _forced(self, repo: Repo, before: str, after: str) -> bool:
        if before == ZERO or after == ZERO:
            return False
        walker = repo.get_walker(include=[ObjectID(after.encode())], max_entries=MAX_FORCED_WALK)
        return all(entry.commit.id.decode() != before for entry in walker)

    def _deliver_changes(self, repo: Repo, name: str, before: dict[str, str], after: dict[str, str]) -> None:
        for ref in sorted(set(before) | set(after)):
            old, new = before.get(ref, ZERO), after.get(ref, ZERO)
            if old == new:
                continue
            payload = push_payload(
                repo,
                owner=self.owner,
                name=name,
                ref=ref,
                before=old,
                after=new,
                base=self.base_url,
                clone_url=self.url(name),
                pusher="local",
                forced=self._forced(repo, old, new),
                now=int(time.time()),
            )
            self.deliveries.append(self.deliver(payload, ref=ref, before=old, after=new))

    def deliver(self, payload: dict[str, Any], *, ref: str, before: str, after: str) -> Delivery:
        """POST one GitHub push delivery, signed with the local secret, to the webhook."""
        body = json.dumps(payload).encode()
        delivery_id = str(uuid.uuid4())
        request = urllib.request.Request(  # noqa: S310 (the URL is the local webhook, http on 127.0.0.1)
            self.webhook_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "GitHub-Hookshot/flowops-local",
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": delivery_id,
                "X-GitHub-Hook-ID": "1",
                "X-Hub-Signature-256": sign(body, self._secret),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=_DELIVERY_TIMEOUT) as response:  # noqa: S310
                status, text = response.status, response.read(1024 * 1024)
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read(1024 * 1024)
        except OSError as error:
            status, text = 0, json.dumps({"message": f"webhook unreachable: {type(error).__name__}"}).encode()
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            answer = {"message": text[:200].decode("utf-8", "replace")}
        return Delivery(delivery_id, ref, before, after, status, answer if isinstance(answer, dict) else {})
