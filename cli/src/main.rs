//! `agnus`: the operator CLI.

use agnus_cli::esm::{EventSourceMapping, HttpInvoker};
use agnus_shared::telemetry;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "agnus", about = "AgnusAI control plane operator commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Upgrade a single-tenant data set into the default organization (idempotent, resumable).
    Migrate {
        /// Print the plan with counts; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Name of the default organization (slug `default`).
        #[arg(long, env = "DEFAULT_ORG_NAME", default_value = "Default")]
        default_org_name: String,
        #[arg(long, env = "AGNUS_TABLE_NAME")]
        table: String,
        /// KMS key sealing the imported secrets and tokens.
        #[arg(long, env = "AGNUS_KMS_KEY_ID")]
        kms_key_id: String,
        /// Stop after N writes (rehearse an interruption; run again to resume).
        #[arg(long, hide = true)]
        stop_after: Option<usize>,
    },
    /// Reverse the membership backfill of `migrate`.
    MigrateDown {
        #[arg(long, env = "AGNUS_TABLE_NAME")]
        table: String,
    },
    /// List the last messages the local emulator's SES accepted, with their links (`make dev`).
    Mail {
        /// How many of the latest messages to show.
        #[arg(long, default_value_t = 10)]
        last: usize,
        /// Only messages to this address.
        #[arg(long)]
        to: Option<String>,
        /// The emulator (moto) endpoint.
        #[arg(long, env = "AWS_ENDPOINT_URL", default_value = "http://127.0.0.1:4566")]
        endpoint: String,
    },
    /// Feed a Lambda function from an SQS queue like the SQS trigger does (for `make dev`).
    Esm {
        /// The queue to poll.
        #[arg(long, env = "AGNUS_REVIEW_QUEUE_URL")]
        queue_url: String,
        /// The function's Invoke API URL.
        #[arg(
            long,
            default_value = "http://127.0.0.1:3000/2015-03-31/functions/worker/invocations"
        )]
        invoke_url: String,
        /// Messages per invocation (1-10).
        #[arg(long, default_value_t = 10)]
        batch_size: i32,
        /// Long-poll wait in seconds.
        #[arg(long, default_value_t = 2)]
        wait_secs: i32,
    },
}

#[tokio::main]
#[allow(clippy::print_stdout)] // a CLI: the report goes to stdout
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    telemetry::init();
    match Cli::parse().command {
        Command::Migrate {
            dry_run,
            default_org_name,
            table,
            kms_key_id,
            stop_after,
        } => {
            let sdk = agnus_shared::aws::load().await;
            let store = agnus_shared::store::Store::new(agnus_shared::aws::dynamodb(&sdk), table);
            let sealer = agnus_shared::crypto::SecretBox::new(agnus_shared::aws::kms(&sdk), kms_key_id);
            let options = agnus_cli::migrate::Options {
                dry_run,
                default_org_name,
                stop_after,
            };
            let report = agnus_cli::migrate::migrate(&store, &sealer, &options).await?;
            print!("{}", report.render(dry_run));
            Ok(())
        }
        Command::MigrateDown { table } => {
            let sdk = agnus_shared::aws::load().await;
            let store = agnus_shared::store::Store::new(agnus_shared::aws::dynamodb(&sdk), table);
            let removed = agnus_cli::migrate::down(&store).await?;
            println!("removed {removed} memberships from the default org; schema version 1");
            Ok(())
        }
        Command::Mail { last, to, endpoint } => {
            let mails = agnus_cli::mail::sent(&endpoint).await?;
            print!("{}", agnus_cli::mail::render(&mails, last, to.as_deref()));
            Ok(())
        }
        Command::Esm {
            queue_url,
            invoke_url,
            batch_size,
            wait_secs,
        } => {
            let sdk = agnus_shared::aws::load().await;
            let esm = EventSourceMapping::new(agnus_shared::aws::sqs(&sdk), &queue_url, batch_size, wait_secs).await?;
            let invoker = HttpInvoker::new(invoke_url);
            tracing::info!(queue = %queue_url, "event source mapping running");
            loop {
                match esm.poll_once(&invoker).await {
                    Ok(r) if r.received > 0 => {
                        tracing::info!(received = r.received, deleted = r.deleted, failed = r.failed, "batch")
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "poll failed");
                        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                    }
                }
            }
        }
    }
}
