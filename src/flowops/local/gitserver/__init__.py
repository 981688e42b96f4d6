"""A real Git server for `flowops local up`: dulwich's smart HTTP server on 127.0.0.1 that,
after each accepted push, delivers a GitHub-format push webhook signed with the local secret."""

from flowops.local.gitserver.server import LocalGitServer

__all__ = ["LocalGitServer"]
