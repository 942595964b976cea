"""SESv2 for LocalStack, served by the moto engine LocalStack bundles (moto-ext).

Why: LocalStack's community edition does not emulate SESv2 ("not included in your current
license plan or has not yet been emulated"), and the functions send mail with SESv2
SendEmail (shared/src/email.rs), as they do on AWS. Serving SESv2 here keeps the code path
the same locally and in the cloud (no SES v1 fallback in the functions).

API shapes served: every operation of the SESv2 2019-09-27 REST-JSON API (/v2/email/...)
as botocore's service model defines it -- LocalStack parses and routes the request with
that model, then hands the raw HTTP request to moto's SESv2 responses
(moto.sesv2.responses), which share their identities and sent messages with SES v1 (the
same backend LocalStack's own SES v1 provider uses: an identity created through either API
is verified for both, and an unverified sender is refused, as on SES).

SendEmail additionally records the message where LocalStack's SES v1 records what it sent,
so LocalStack's own listing, GET /_aws/ses ({"messages": [{Id, Source, Destination,
Subject, Body: {text_part, html_part}, ...}]}), shows SESv2 mail too; `agnus mail` and the
mail tests read that listing (cli/src/mail.rs).
"""

from __future__ import annotations

import base64
from urllib.parse import unquote

from localstack.aws.api import RequestContext, ServiceRequest
from localstack.aws.spec import load_service
from localstack.services.moto import call_moto, dispatch_to_moto
from localstack.services.plugins import Service, aws_provider


def _decoded_path(context: RequestContext) -> None:
    """moto reads SESv2 path parameters (/v2/email/identities/{EmailIdentity}) from the raw
    path, which LocalStack hands over still percent-encoded (`noreply%40agnus.local`); AWS
    and moto's own server decode them. Decode the path (not the query) before moto sees it."""
    environ = context.request.environ
    raw = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
    path, sep, query = raw.partition("?")
    environ["RAW_URI"] = unquote(path) + sep + query


def _to_moto(context: RequestContext, _request: ServiceRequest):
    _decoded_path(context)
    return dispatch_to_moto(context)


def _send_email(context: RequestContext, request: ServiceRequest):
    from localstack.services.ses.models import SentEmail, SentEmailBody
    from localstack.services.ses.provider import register_ses_api_resource, save_for_retrospection

    _decoded_path(context)
    response = call_moto(context)
    content = request.get("Content") or {}
    sent = SentEmail(
        Id=response["MessageId"],
        Region=context.region,
        Source=request.get("FromEmailAddress"),
        Destination=request.get("Destination") or {},
    )
    if simple := content.get("Simple"):
        body = simple.get("Body") or {}
        sent["Subject"] = (simple.get("Subject") or {}).get("Data")
        sent["Body"] = SentEmailBody(
            text_part=(body.get("Text") or {}).get("Data"),
            html_part=(body.get("Html") or {}).get("Data"),
        )
    elif raw := content.get("Raw"):
        data = raw.get("Data")
        sent["RawData"] = data.decode() if isinstance(data, bytes) else base64.b64decode(data).decode()
    register_ses_api_resource()
    save_for_retrospection(sent)
    return response


class MotoSesV2Provider:
    """The provider object LocalStack's service manager keeps (no lifecycle hooks)."""

    service = "sesv2"


@aws_provider(api="sesv2", name="agnus_moto")
def sesv2():
    from localstack.services.ses.provider import register_ses_api_resource

    # /_aws/ses is registered by LocalStack's SES v1 provider when it loads; SESv2 mail
    # must be listed even when nothing used SES v1.
    register_ses_api_resource()
    provider = MotoSesV2Provider()
    table = {name: _to_moto for name in load_service("sesv2").operation_names}
    table["SendEmail"] = _send_email
    return Service.for_provider(provider, dispatch_table_factory=lambda _p: table)
