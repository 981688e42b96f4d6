"""`flowops.git`: a `git push` releases. Provider push webhooks (GitHub, GitLab) verified and
parsed, the pushed commit read over Git's smart HTTP, a release started once per
(repository, commit, environment), and the commit status reported back. See docs/git.md."""
