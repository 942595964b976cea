//! Which failed attempts are tried again, and after how long: the SDK's standard retry
//! mode (`RetryConfig::standard()`), with its classifiers for this one operation.

use std::time::Duration;

/// The error codes the SDK treats as throttling (`aws_runtime::retries::classifiers`) or
/// transient; SQS names its own throttling `RequestThrottled` (query code) or
/// `ThrottlingException` (JSON).
const RETRYABLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// A service answer worth another attempt: 500, 502, 503, 504, or a throttling /
/// transient error code.
pub fn retryable_answer(status: u16, code: &str) -> bool {
    matches!(status, 500 | 502 | 503 | 504) || RETRYABLE_CODES.contains(&code)
}

/// How many attempts, and the backoff between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// The SDK's standard mode: the wait before attempt `n + 1` (after `n` failures) is
    /// `random(0..1) × min(initial × 2^(n-1), max)` ("full jitter").
    pub fn backoff(&self, failed_attempts: u32, random: f64) -> Duration {
        let exponent = failed_attempts.saturating_sub(1);
        let base = 2u32
            .checked_pow(exponent)
            .and_then(|p| self.initial_backoff.checked_mul(p))
            .map_or(self.max_backoff, |d| d.min(self.max_backoff));
        base.mul_f64(random.clamp(0.0, 1.0))
    }
}

/// A uniform random number in [0, 1) from the OS (jitter needs no more).
pub fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0),
        // No randomness: the full backoff, never a retry storm.
        Err(_) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let policy = RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(20),
        };
        assert_eq!(policy.backoff(1, 1.0), Duration::from_secs(1));
        assert_eq!(policy.backoff(2, 1.0), Duration::from_secs(2));
        assert_eq!(policy.backoff(3, 0.5), Duration::from_secs(2));
        assert_eq!(policy.backoff(10, 1.0), Duration::from_secs(20));
        assert_eq!(policy.backoff(100, 1.0), Duration::from_secs(20));
        assert_eq!(policy.backoff(2, 0.0), Duration::ZERO);
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }

    #[test]
    fn throttling_and_server_errors_are_retried_client_errors_are_not() {
        assert!(retryable_answer(503, ""));
        assert!(retryable_answer(500, "InternalError"));
        assert!(retryable_answer(400, "RequestThrottled"));
        assert!(retryable_answer(400, "ThrottlingException"));
        assert!(!retryable_answer(400, "QueueDoesNotExist"));
        assert!(!retryable_answer(403, "AccessDenied"));
        assert!(!retryable_answer(413, ""));
    }
}
