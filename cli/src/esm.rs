//! A local SQS event-source mapping: what Lambda's SQS trigger does, for `make dev`.
//!
//! Receive up to `batch_size` messages (long poll), invoke the function with an SQS event,
//! read its `batchItemFailures` (ReportBatchItemFailures), delete every message that did
//! not fail, and leave the failures to reappear after the visibility timeout — so the
//! queue's redrive policy moves a message that keeps failing to the DLQ after
//! `maxReceiveCount` receives, exactly as in AWS. An invocation error fails the whole batch.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};

pub type InvokeFuture<'a> = Pin<Box<dyn Future<Output = Result<SqsBatchResponse, String>> + Send + 'a>>;

/// Something that runs the function on an SQS event.
pub trait Invoker: Send + Sync {
    fn invoke(&self, event: SqsEvent) -> InvokeFuture<'_>;
}

/// Invokes through the Lambda Invoke API (`cargo lambda watch` serves it locally).
#[derive(Debug, Clone)]
pub struct HttpInvoker {
    client: reqwest::Client,
    url: String,
}

impl HttpInvoker {
    /// `url`: e.g. `http://127.0.0.1:3000/2015-03-31/functions/worker/invocations`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            client: reqwest::Client::new(),
            url: url.into(),
        }
    }
}

impl Invoker for HttpInvoker {
    fn invoke(&self, event: SqsEvent) -> InvokeFuture<'_> {
        Box::pin(async move {
            let response = self
                .client
                .post(&self.url)
                .json(&event)
                .send()
                .await
                .map_err(|e| format!("invoke: {e}"))?;
            let status = response.status();
            let function_error = response.headers().contains_key("x-amz-function-error");
            let body = response.bytes().await.map_err(|e| format!("invoke: {e}"))?;
            if !status.is_success() || function_error {
                return Err(format!(
                    "function failed ({status}): {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            serde_json::from_slice(&body).map_err(|e| format!("not an SQS batch response: {e}"))
        })
    }
}

/// What one poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollReport {
    pub received: usize,
    pub deleted: usize,
    pub failed: usize,
}

#[derive(Debug, Clone)]
pub struct EventSourceMapping {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    queue_arn: String,
    batch_size: i32,
    wait_secs: i32,
}

impl EventSourceMapping {
    pub async fn new(
        sqs: aws_sdk_sqs::Client,
        queue_url: impl Into<String>,
        batch_size: i32,
        wait_secs: i32,
    ) -> Result<Self, String> {
        let queue_url = queue_url.into();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| format!("queue {queue_url}: {e:?}"))?;
        let queue_arn = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .cloned()
            .unwrap_or_default();
        Ok(Self {
            sqs,
            queue_url,
            queue_arn,
            batch_size: batch_size.clamp(1, 10),
            wait_secs: wait_secs.clamp(0, 20),
        })
    }

    /// Receives one batch and runs it through `invoker`.
    pub async fn poll_once(&self, invoker: &dyn Invoker) -> Result<PollReport, String> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size)
            .wait_time_seconds(self.wait_secs)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|e| format!("receive: {e:?}"))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(PollReport::default());
        }
        let mut event = SqsEvent::default();
        for m in &messages {
            let mut record = SqsMessage::default();
            record.message_id = m.message_id.clone();
            record.receipt_handle = m.receipt_handle.clone();
            record.body = m.body.clone();
            record.md5_of_body = m.md5_of_body.clone();
            record.event_source = Some("aws:sqs".into());
            record.event_source_arn = Some(self.queue_arn.clone());
            record.aws_region = Some(std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()));
            record.attributes = m
                .attributes()
                .map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), v.clone())).collect())
                .unwrap_or_default();
            let mut attributes = HashMap::new();
            for (name, value) in m.message_attributes().into_iter().flatten() {
                let mut attr = SqsMessageAttribute::default();
                attr.string_value = value.string_value.clone();
                attr.data_type = Some(value.data_type.clone());
                attributes.insert(name.clone(), attr);
            }
            record.message_attributes = attributes;
            event.records.push(record);
        }
        let failed: Vec<String> = match invoker.invoke(event).await {
            Ok(response) => response
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier)
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "invocation failed; the whole batch will be retried");
                messages.iter().filter_map(|m| m.message_id.clone()).collect()
            }
        };
        let done: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .filter(|m| m.message_id.as_ref().is_some_and(|id| !failed.contains(id)))
            .enumerate()
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle.clone().unwrap_or_default())
                    .build()
                    .ok()
            })
            .collect();
        let deleted = done.len();
        if !done.is_empty() {
            self.sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(done))
                .send()
                .await
                .map_err(|e| format!("delete: {e:?}"))?;
        }
        Ok(PollReport {
            received: messages.len(),
            deleted,
            failed: failed.len(),
        })
    }
}
