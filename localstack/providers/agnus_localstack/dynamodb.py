"""DynamoDB for LocalStack, served by the moto engine LocalStack already bundles (moto-ext).

Why: LocalStack's community DynamoDB forwards every request to AWS's DynamoDB Local, a Java
jar it downloads at run time. This project's machines cannot download it, and its licence
(the vendor's own terms) keeps it out of the project's tests. moto (Apache-2.0) is what the
project's default emulator (localstack/emulator.py) runs, so both paths share one engine.

API shapes served: every operation of the DynamoDB 2012-08-10 JSON API (X-Amz-Target
DynamoDB_20120810.*) as botocore's service model defines it -- LocalStack parses and routes
the request with that model, then hands the raw HTTP request to moto's DynamoDB responses
(moto.dynamodb.responses) and returns moto's HTTP response unchanged (errors included, so
TransactionCanceledException keeps its CancellationReasons).

What differs from DynamoDB Local (which the Docker image uses): moto keeps tables in memory
only, does not enforce the 400 KB item limit on every path, reports no consumed capacity,
and expires TTL items only when asked; transactions are isolated here by serializing every
DynamoDB request (one at a time, as a single partition would).

Thread safety: LocalStack serves requests on a thread pool, but moto's DynamoDB backend is
not thread-safe (a TransactWriteItems deep-copies the tables while other threads mutate
them: "dictionary changed size during iteration"), so every request holds one lock, as
localstack/emulator.py does for the moto server. Tables are deep-copied at most once per
request for transaction rollback (moto copies once per transaction item).
"""

from __future__ import annotations

import copy
import threading

from localstack.aws.api import RequestContext, ServiceRequest
from localstack.aws.spec import load_service
from localstack.services.moto import dispatch_to_moto
from localstack.services.plugins import Service, aws_provider

_LOCK = threading.Lock()
_REQUEST = threading.local()


class _CopyOncePerRequest:
    """Stands in for the `copy` module inside moto's DynamoDB backend: a table is
    deep-copied (for transaction rollback) at most once per request."""

    def deepcopy(self, obj, memo=None):
        from moto.dynamodb.models.table import Table

        cache = getattr(_REQUEST, "tables", None)
        if cache is None or not isinstance(obj, Table):
            return copy.deepcopy(obj, memo)
        if id(obj) not in cache:
            cache[id(obj)] = copy.deepcopy(obj)
        return cache[id(obj)]

    def __getattr__(self, name):
        return getattr(copy, name)


def _serialized(context: RequestContext, _request: ServiceRequest):
    with _LOCK:
        _REQUEST.tables = {}
        try:
            return dispatch_to_moto(context)
        finally:
            _REQUEST.tables = None


class MotoDynamoDBProvider:
    """The provider object LocalStack's service manager keeps (no lifecycle hooks)."""

    service = "dynamodb"


@aws_provider(api="dynamodb", name="agnus_moto")
def dynamodb():
    import moto.dynamodb.models as ddb_models

    ddb_models.copy = _CopyOncePerRequest()
    provider = MotoDynamoDBProvider()
    table = {name: _serialized for name in load_service("dynamodb").operation_names}
    return Service.for_provider(provider, dispatch_table_factory=lambda _p: table)
