"""Releases: many flows at once, in dependency order, all or nothing (docs/releases.md).

- `bundle`: a release directory (flow YAML files + per-environment Archy options files) read
  into one content-addressed bundle; export file names.
- `content`: the normalised content of a flow YAML, so cosmetic differences never count.
- `plan`: create / update / unchanged per flow, module consumers, validation, waves.
- `export`: an org's published flows as files a release takes back unchanged.
- `steps`: the release state machine's steps.
"""
