"""`flowops.webhook`: the signed publish webhook's core (signatures, replay protection, models).

Import the submodules directly (`flowops.webhook.signature`, `.service`, ...): this package
module stays empty so that `from flowops.webhook.signature import sign` does not pull boto3.
"""
