#!/usr/bin/env python3
"""Capacity model of the delivery pipeline (docs/capacity.md): a simulation, not a benchmark.

Spreads a delivery rate over N orgs (one hot org takes a share, the rest follow a Zipf
law), then applies what each delivery costs in DynamoDB (per partition and per item), SQS,
KMS and Lambda, against AWS's published default limits. Prints where each limit is reached
and the cost per million deliveries. Every constant below says where it comes from.

    python3 bench/capacity.py                       # the defaults of docs/capacity.md
    python3 bench/capacity.py --rate 2000 --hot-share 0.5 --orgs 1000
"""
import argparse
import math

# ---- what one delivery costs (read off the code; docs/capacity.md explains each) ----
# intake: ledger claim (conditional Put) + ledger done (Update) on the delivery's own item
INTAKE_WRU_PER_DELIVERY = 2
# worker, pull_request event: a transaction of 2 items (job, processed marker);
# transactional writes cost 2 WRU per item
WORKER_WRU_PER_PR = 2 * 2
# worker reads: processed marker, repo claim, repo item (strongly consistent: 1 RRU each)
WORKER_RRU_PER_PR = 3
# worker, any other event: the processed marker only
WORKER_WRU_PER_OTHER = 1
# review engine per job: claim + outcome (Updates) + the org's monthly usage counter
REVIEW_WRU_PER_JOB = 3
SQS_REQUESTS_PER_DELIVERY = 1 + 0.1 + 0.1  # intake Send; worker Receive/Delete in batches of 10
SQS_REQUESTS_PER_JOB = 1 + 1 + 1  # worker Send to review-jobs; reviewer Receive, Delete

# ---- AWS defaults (service quotas pages, us-east-1, 2026) ----
PARTITION_WCU = 1_000  # DynamoDB per partition (and per item: a single item never splits)
PARTITION_RCU = 3_000
LAMBDA_CONCURRENCY = 1_000  # account default, all functions together
KMS_SYMMETRIC_RPS = 50_000  # us-east-1 / us-west-2 / eu-west-1; 5,500-10,000 elsewhere
HTTP_API_RPS = 10_000  # API Gateway account throttle (burst 5,000)

# ---- measured (BENCHMARKS.md) and assumed latencies ----
INTAKE_WALL_MS = 25.0  # in AWS: DynamoDB Put + SQS Send + Update, ~6-8 ms each, plus CPU
WORKER_WALL_MS_PER_BATCH = 60.0
INTAKE_MEMORY_GB = 0.25
WORKER_MEMORY_GB = 0.25

# ---- prices (us-east-1, on-demand, arm64) ----
PRICE_LAMBDA_GB_S = 0.0000133334
PRICE_LAMBDA_REQ = 0.20 / 1e6
PRICE_HTTP_API_REQ = 1.00 / 1e6
PRICE_WRU = 0.625 / 1e6
PRICE_RRU = 0.125 / 1e6
PRICE_SQS_REQ = 0.40 / 1e6
PRICE_KMS_REQ = 0.03 / 1e4
PRICE_LOG_GB = 0.50
LOG_BYTES_PER_DELIVERY = 1_500  # intake + worker JSON lines and EMF metrics


def zipf_shares(n: int, s: float) -> list[float]:
    weights = [1.0 / (k**s) for k in range(1, n + 1)]
    total = sum(weights)
    return [w / total for w in weights]


def model(args: argparse.Namespace) -> dict:
    rest = zipf_shares(args.orgs - 1, args.zipf) if args.orgs > 1 else []
    shares = [args.hot_share] + [(1 - args.hot_share) * r for r in rest]
    rates = [args.rate * s for s in shares]
    hot = rates[0]
    pr = args.pr_share
    per_delivery_wru = INTAKE_WRU_PER_DELIVERY + pr * WORKER_WRU_PER_PR + (1 - pr) * WORKER_WRU_PER_OTHER
    hot_partition_wru = hot * (per_delivery_wru + pr * args.review_share * REVIEW_WRU_PER_JOB)
    # The one item every review of an org updates: its monthly usage counter.
    hot_usage_item_wru = hot * pr * args.review_share
    # Splits for heat spread distinct items; a partition's ceiling before any split is 1,000.
    ceiling_unsplit = PARTITION_WCU / (per_delivery_wru + pr * args.review_share * REVIEW_WRU_PER_JOB)
    ceiling_item = PARTITION_WCU / max(pr * args.review_share, 1e-9)
    # KMS: each warm intake instance decrypts each active org's secret once per cache TTL.
    intake_concurrency = args.rate * INTAKE_WALL_MS / 1000
    instances = max(1, math.ceil(intake_concurrency))
    active_orgs = sum(1 for r in rates if r * args.cache_ttl >= 1)  # at least one delivery per TTL
    kms_rps = instances * min(active_orgs, args.cache_entries) / args.cache_ttl
    worker_concurrency = args.rate / 10 * WORKER_WALL_MS_PER_BATCH / 1000
    reviews_per_s = args.rate * pr * args.review_share
    reviewer_concurrency = reviews_per_s * args.review_seconds
    million = 1e6
    cost = {
        "API Gateway (HTTP API)": million * PRICE_HTTP_API_REQ,
        "Lambda intake": million * (PRICE_LAMBDA_REQ + INTAKE_WALL_MS / 1000 * INTAKE_MEMORY_GB * PRICE_LAMBDA_GB_S),
        "Lambda worker": million / 10 * (PRICE_LAMBDA_REQ + WORKER_WALL_MS_PER_BATCH / 1000 * WORKER_MEMORY_GB * PRICE_LAMBDA_GB_S),
        "DynamoDB writes": million * per_delivery_wru * PRICE_WRU,
        "DynamoDB reads": million * pr * WORKER_RRU_PER_PR * PRICE_RRU,
        "SQS": million * (SQS_REQUESTS_PER_DELIVERY + pr * args.review_share * SQS_REQUESTS_PER_JOB) * PRICE_SQS_REQ,
        "KMS": (kms_rps * million / max(args.rate, 1e-9)) * PRICE_KMS_REQ,
        "CloudWatch Logs": million * LOG_BYTES_PER_DELIVERY / 1e9 * PRICE_LOG_GB,
    }
    return {
        "hot_org_deliveries_per_s": hot,
        "hot_partition_wru_per_s": hot_partition_wru,
        "hot_usage_item_wru_per_s": hot_usage_item_wru,
        "per_org_ceiling_before_split": ceiling_unsplit,
        "per_org_review_ceiling_item": ceiling_item,
        "intake_concurrency": intake_concurrency,
        "worker_concurrency": worker_concurrency,
        "reviewer_concurrency": reviewer_concurrency,
        "lambda_concurrency_total": intake_concurrency + worker_concurrency + reviewer_concurrency,
        "kms_decrypts_per_s": kms_rps,
        "http_api_headroom": HTTP_API_RPS / max(args.rate, 1e-9),
        "cost_per_million": cost,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=500.0, help="deliveries per second, all orgs")
    p.add_argument("--orgs", type=int, default=1_000)
    p.add_argument("--hot-share", type=float, default=0.2, help="share of all deliveries that go to the hot org")
    p.add_argument("--zipf", type=float, default=1.1, help="Zipf exponent of the other orgs")
    p.add_argument("--pr-share", type=float, default=0.3, help="share of deliveries that are pull_request events")
    p.add_argument("--review-share", type=float, default=0.5, help="share of PR deliveries that become a review")
    p.add_argument("--review-seconds", type=float, default=60.0, help="wall time of one review (LLM + provider)")
    p.add_argument("--cache-ttl", type=float, default=60.0, help="AGNUS_WEBHOOK_CACHE_TTL_SECS")
    p.add_argument("--cache-entries", type=int, default=10_000, help="intake secret cache capacity")
    args = p.parse_args()
    m = model(args)
    print(f"{args.rate:.0f} deliveries/s over {args.orgs} orgs, hot org {args.hot_share:.0%}")
    for k, v in m.items():
        if k == "cost_per_million":
            continue
        print(f"  {k:34} {v:12.1f}")
    print("  limits: partition 1,000 WRU/s (per item, never split), Lambda 1,000 concurrent, "
          f"KMS {KMS_SYMMETRIC_RPS:,}/s, HTTP API {HTTP_API_RPS:,} rps")
    hot_ok = m["hot_partition_wru_per_s"] <= PARTITION_WCU
    print(f"  hot org partition {'within' if hot_ok else 'ABOVE'} 1,000 WRU/s before adaptive splitting")
    total = 0.0
    print("cost per million deliveries (USD, excluding the LLM):")
    for k, v in m["cost_per_million"].items():
        total += v
        print(f"  {k:24} {v:8.2f}")
    print(f"  {'total':24} {total:8.2f}")


if __name__ == "__main__":
    main()
