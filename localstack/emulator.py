"""The Docker-free AWS emulator: moto's server application, made safe for concurrent use.

`moto_server` serves requests on many threads, but moto's DynamoDB backend is not
thread-safe: a `TransactWriteItems` deep-copies the whole table (once per item in the
transaction) while other threads mutate it, which fails at random under load and lets
concurrent transactions interleave. Real DynamoDB isolates transactions, and the tests
race conflicting operations on purpose, so this entry point:

* serializes DynamoDB requests (one at a time, as a single partition would), while SQS,
  KMS, S3 and CloudFormation requests stay concurrent (SQS long polls must not block);
* copies each table once per transaction instead of once per transaction item.

Usage: emulator.py [--host 127.0.0.1] [--port 4566]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import threading

import moto.dynamodb.models as ddb_models
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

_DYNAMODB_LOCK = threading.Lock()
_REQUEST = threading.local()


class _CopyOncePerRequest:
    """Stands in for the `copy` module inside moto's DynamoDB backend: a table is
    deep-copied (for transaction rollback) at most once per request."""

    def deepcopy(self, obj, memo=None):
        cache = getattr(_REQUEST, "tables", None)
        if cache is None or not isinstance(obj, Table):
            return copy.deepcopy(obj, memo)
        if id(obj) not in cache:
            cache[id(obj)] = copy.deepcopy(obj)
        return cache[id(obj)]

    def __getattr__(self, name):
        return getattr(copy, name)


ddb_models.copy = _CopyOncePerRequest()


def _sent_mail() -> bytes:
    """The messages SES accepted, shaped like `/moto-api/data.json`'s `ses.Message` list.

    data.json serializes every backend (all DynamoDB items included) and takes minutes once
    the tests have filled the table; `agnus mail` and tests/tests/mail/ read this instead."""
    from moto.ses.models import ses_backends

    messages = []
    for regions in ses_backends.values():
        for backend in regions.values():
            for m in backend.sent_messages:
                if hasattr(m, "subject"):
                    messages.append(
                        {"id": m.id, "source": m.source, "subject": m.subject, "body": m.body, "destinations": m.destinations}
                    )
    return json.dumps({"ses": {"Message": messages}}).encode()


def application(main_app):
    def app(environ, start_response):
        if environ.get("PATH_INFO") == "/_agnus/ses/messages":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [_sent_mail()]
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with _DYNAMODB_LOCK:
                _REQUEST.tables = {}
                try:
                    # Consume the response inside the lock: the backend work is done lazily.
                    return list(main_app(environ, start_response))
                finally:
                    _REQUEST.tables = None
        return main_app(environ, start_response)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    main_app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        application(main_app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
