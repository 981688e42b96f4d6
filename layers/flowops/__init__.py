"""flowops: the typed core (this directory, the Lambda layer) and, merged into the same package,
the handlers, CLI and local cloud (src/flowops: flowops.functions, flowops.cli, flowops.local).

Installed from the wheel both are one directory. Elsewhere they are two directories named
`flowops` on sys.path: in Lambda the function code asset (/var/task/flowops/functions, no
__init__.py) and this layer (/opt/python/flowops); in a checkout src/ and layers/. extend_path
makes every such directory part of this package (docs/decisions.md, "One flowops namespace").
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
