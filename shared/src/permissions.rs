//! The AWS actions each function performs — its own SDK calls, plus the KMS use that
//! SQS/S3 encryption with the project key implies. `infra/template.yaml` grants each
//! function's role exactly these (tests/tests/infra.rs checks), so a role never carries
//! an action its code does not need.

/// DynamoDB item actions a `TransactWriteItems` of puts, updates and condition checks needs.
const TXN: [&str; 4] = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
];

pub const FUNCTION_ACTIONS: &[(&str, &[&str])] = &[
    (
        "auth",
        &[
            TXN[0],
            TXN[1],
            TXN[2],
            TXN[3],
            "dynamodb:DeleteItem", // logout
            "dynamodb:Query",      // my orgs
            "dynamodb:BatchGetItem",
            "kms:Encrypt", // sealing the new org's webhook secrets
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "ses:SendEmail", // verification and password reset, from AGNUS_MAIL_FROM only
        ],
    ),
    (
        "orgs",
        &[
            TXN[0],
            TXN[1],
            TXN[2],
            TXN[3],
            "dynamodb:DeleteItem",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "kms:Encrypt", // new orgs and rotations
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "ses:SendEmail", // membership mail (removed, ownership transferred), from AGNUS_MAIL_FROM only
            "dynamodb:Scan", // the system admin's list of every org (no index of all orgs)
            "bedrock:InvokeModel", // Titan embeddings of rated comments, only when EmbeddingsProvider is bedrock
        ],
    ),
    (
        "invites",
        &[
            TXN[0],
            TXN[1],
            TXN[2],
            TXN[3],
            "dynamodb:Query",
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "ses:SendEmail", // invitations, from AGNUS_MAIL_FROM only
        ],
    ),
    (
        "intake",
        &[
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "kms:Decrypt",         // opening webhook secrets
            "kms:GenerateDataKey", // SSE-KMS of the queue and the bucket
            "sqs:SendMessage",
            "s3:PutObject",
        ],
    ),
    (
        "repos",
        &[
            TXN[0],
            TXN[1],
            TXN[2],
            TXN[3],
            "dynamodb:DeleteItem",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "kms:Encrypt", // repo access tokens and GitHub App private keys
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "sqs:SendMessage",
        ],
    ),
    (
        "worker",
        &[
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:Query",
            "sqs:ReceiveMessage", // the event source mapping, on the function's role
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility",
            "s3:GetObject",
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "sqs:SendMessage", // jobs onto the review-jobs queue
        ],
    ),
    (
        "reviewer",
        &[
            "dynamodb:GetItem",
            "dynamodb:UpdateItem", // claims, outcomes, usage (TransactWriteItems of updates)
            "dynamodb:PutItem",    // posted comments and the org's feedback key
            "dynamodb:Query",      // rules, settings, the feedback examples
            "kms:Encrypt",         // sealing the org's feedback key (purpose feedback-key only)
            "sqs:ReceiveMessage",  // the event source mapping, on the function's role
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility", // retry later, honouring Retry-After
            "kms:Decrypt",                 // repository tokens; the encrypted queue and table
            "kms:GenerateDataKey",
            "bedrock:InvokeModel", // Converse, only when LlmProvider is bedrock (a template condition); Titan embeddings, only when EmbeddingsProvider is bedrock
            "sqs:SendMessage",     // an index catch-up when a pull request's base is not the indexed commit
            "s3:GetObject",        // the codebase index's graphs (graph context), read only
        ],
    ),
    (
        "indexer",
        &[
            "dynamodb:GetItem",    // the repository (its sealed token), the index record
            "dynamodb:UpdateItem", // the index record: start, progress, outcome
            "dynamodb:PutItem",    // the org's one-job lease
            "dynamodb:DeleteItem", // giving the lease back
            "kms:Decrypt", // repository tokens and GitHub App keys (purposes repo-token, app-key); the queue and graph objects
            "kms:GenerateDataKey", // SSE-KMS graph objects
            "s3:GetObject", // the last graph (an incremental update) and its vectors (reused)
            "s3:PutObject", // the new graph and its vectors object
            "s3:PutObjectTagging", // the replaced graph and vectors expire
            "sqs:ReceiveMessage", // the event source mapping, on the function's role
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility",
            "sqs:SendMessage",     // a job whose org is busy comes back later
            "bedrock:InvokeModel", // Titan embeddings of the graph's symbols, only when EmbeddingsProvider is bedrock
        ],
    ),
    // The console serves embedded files only: no AWS call at all.
    ("console", &[]),
    (
        "purge",
        &[
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "dynamodb:BatchWriteItem",
            "kms:Decrypt",
            "kms:GenerateDataKey",
        ],
    ),
];
