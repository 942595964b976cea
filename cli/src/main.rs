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
    /// Upgrade a single-tenant AgnusAI install (its PostgreSQL database) into the `default`
    /// organization (idempotent, resumable).
    Migrate {
        /// The single-tenant install's database, e.g. postgres://agnus:…@127.0.0.1:5432/agnus.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        from_postgres: String,
        /// Print the summary of what would be migrated; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Until when /api/webhooks/{github,azure} stay aliases of the default org (RFC 3339,
        /// e.g. 2026-06-30T00:00:00Z); default: 90 days after the first run. Run again
        /// with a later date to extend.
        #[arg(long)]
        legacy_webhooks_until: Option<String>,
        /// The single-tenant global webhook secret (GitHub and Azure DevOps of `default`).
        #[arg(long, env = "WEBHOOK_SECRET", hide_env_values = true)]
        webhook_secret: Option<String>,
        /// Name of the default organization (slug `default`).
        #[arg(long, env = "DEFAULT_ORG_NAME", default_value = "Default")]
        default_org_name: String,
        #[arg(long, env = "AGNUS_TABLE_NAME")]
        table: String,
        /// KMS key sealing the imported secrets and tokens.
        #[arg(long, env = "AGNUS_KMS_KEY_ID")]
        kms_key_id: String,
        /// Stop after N transactions (rehearse an interruption; run again to resume).
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
    /// The local HTTP entry of `make dev`: serves only the API and console routes and runs
    /// each request on the function cargo-lambda serves on a private loopback port.
    Gateway {
        /// Where browsers and providers connect.
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: std::net::SocketAddr,
        /// cargo-lambda's Invoke API (loopback; never exposed).
        #[arg(long)]
        invoke_base: String,
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
            from_postgres,
            dry_run,
            legacy_webhooks_until,
            webhook_secret,
            default_org_name,
            table,
            kms_key_id,
            stop_after,
        } => {
            let legacy_webhooks_until = legacy_webhooks_until
                .as_deref()
                .map(agnus_migrate::parse_until)
                .transpose()?;
            let sdk = agnus_shared::aws::load_for_tools().await;
            let store = agnus_shared::store::Store::new(agnus_shared::aws::dynamodb(&sdk), table);
            let sealer = agnus_shared::crypto::SecretBox::new(agnus_shared::aws::kms(&sdk), kms_key_id);
            let options = agnus_migrate::Options {
                dry_run,
                default_org_name,
                webhook_secret: webhook_secret
                    .filter(|s| !s.is_empty())
                    .map(agnus_shared::crypto::WebhookSecret::from_plaintext),
                legacy_webhooks_until,
                stop_after,
                progress: true,
            };
            let database = agnus_migrate::DatabaseUrl::new(from_postgres);
            let report = agnus_migrate::migrate(&database, &store, &sealer, &options).await?;
            print!("{}", report.render());
            Ok(())
        }
        Command::MigrateDown { table } => {
            let sdk = agnus_shared::aws::load_for_tools().await;
            let store = agnus_shared::store::Store::new(agnus_shared::aws::dynamodb(&sdk), table);
            let removed = agnus_migrate::down(&store).await?;
            println!("removed {removed} memberships from the default org; schema version 1");
            Ok(())
        }
        Command::Mail { last, to, endpoint } => {
            let mails = agnus_cli::mail::sent(&endpoint).await?;
            print!("{}", agnus_cli::mail::render(&mails, last, to.as_deref()));
            Ok(())
        }
        Command::Gateway { listen, invoke_base } => {
            let listener = tokio::net::TcpListener::bind(listen).await?;
            tracing::info!(%listen, "gateway listening");
            let gateway = std::sync::Arc::new(agnus_cli::gateway::Gateway::new(invoke_base));
            agnus_cli::gateway::serve(listener, gateway).await?;
            Ok(())
        }
        Command::Esm {
            queue_url,
            invoke_url,
            batch_size,
            wait_secs,
        } => {
            let sdk = agnus_shared::aws::load_for_tools().await;
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
