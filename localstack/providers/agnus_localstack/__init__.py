"""AgnusAI's LocalStack providers and launcher (see localstack/README in docs/operations.md).

* dynamodb.py: DynamoDB served by the moto engine LocalStack bundles (moto-ext), serialized.
* sesv2.py: SESv2 served by moto-ext, sent mail listed at LocalStack's /_aws/ses.
* run.py: starts LocalStack in this process, listening on the loopback address only.
"""
