//! AWS Signature Version 4 for the one request shape this crate sends (SendMessage: POST to
//! the endpoint's path, no query, the same seven headers every time).
//!
//! The general signer (`aws-sigv4`) builds the canonical request through header maps, sorts
//! and lowercases names and allocates a string per step, and derives the signing key (four
//! HMACs) on every call: ~16 µs of fixed cost per message at the shipped opt-level, the part
//! of the intake that missed its goal at 1 KiB (BENCHMARKS.md, "Lean SendMessage"). Here the
//! canonical request is fed straight into SHA-256 in its known order, and the signing key is
//! kept for its day and credentials. The result is the general signer's, byte for byte:
//! `tests::signature_is_the_general_signers` compares them over random times, regions,
//! endpoints, credentials and lengths, and the crate's wire test compares whole requests.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::SetupError;

type HmacSha256 = Hmac<Sha256>;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The request's fixed headers, by name, in canonical (sorted) order around the variable ones.
pub(crate) const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
pub(crate) const TARGET: &str = "AmazonSQS.SendMessage";
pub(crate) const QUERY_MODE: &str = "true";
const SIGNED_WITH_TOKEN: &str =
    "content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target;x-amzn-query-mode";
const SIGNED_WITHOUT_TOKEN: &str = "content-length;content-type;host;x-amz-date;x-amz-target;x-amzn-query-mode";

/// Signs SendMessage requests to one endpoint; shared by every call (the key cache is the
/// only mutable part).
pub(crate) struct Signer {
    /// `POST\n{path}\n\n`: method, canonical path, empty query.
    request_line: String,
    /// The `host` header as signed: the authority without a default port.
    host: String,
    /// `/{region}/sqs/aws4_request`, the scope after the date.
    scope_tail: String,
    key: Mutex<Option<SigningKey>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("host", &self.host)
            .field("scope_tail", &self.scope_tail)
            .finish_non_exhaustive()
    }
}

/// The day's signing key for one set of credentials.
struct SigningKey {
    date: [u8; 8],
    access_key_id: String,
    secret: String,
    key: [u8; 32],
}

/// The headers a signature adds to the request.
pub(crate) struct Signature {
    pub amz_date: String,
    pub authorization: String,
}

impl Signer {
    /// For requests to `uri` (scheme, authority and a path of plain characters) in `region`
    /// for service `name`. Paths the general signer would normalize or re-encode (`%`, `.`
    /// segments, `//`) are refused rather than signed differently.
    pub(crate) fn new(uri: &http::Uri, region: &str, name: &str) -> Result<Self, SetupError> {
        let path = uri.path();
        let plain = path.starts_with('/')
            && !path.contains("//")
            && path.split('/').all(|segment| segment != "." && segment != "..")
            && path.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b));
        if !plain || uri.query().is_some() {
            return Err(SetupError::Endpoint(format!(
                "endpoint path {path:?} must be plain (letters, digits, -._~/) without a query"
            )));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| SetupError::Endpoint("endpoint without a host".into()))?;
        let default_port = matches!(
            (uri.scheme_str(), authority.port_u16()),
            (Some("http"), Some(80)) | (Some("https"), Some(443))
        );
        let host = if default_port {
            authority.host()
        } else {
            authority.as_str()
        };
        Ok(Self {
            request_line: format!("POST\n{path}\n\n"),
            host: host.to_owned(),
            scope_tail: format!("/{region}/{name}/aws4_request"),
            key: Mutex::new(None),
        })
    }

    /// The signature of a request with a body of `content_length` bytes hashing to
    /// `payload_hash` (lowercase hex), at `time`.
    pub(crate) fn sign(
        &self,
        credentials: &Credentials,
        time: SystemTime,
        content_length: &str,
        payload_hash: &str,
    ) -> Signature {
        let stamp = Stamp::of(time);
        let amz_date = stamp.date_time();
        let date = &amz_date[..8];
        let token = credentials.session_token();

        let mut creq = Sha256::new();
        for part in [
            self.request_line.as_str(),
            "content-length:",
            content_length,
            "\ncontent-type:",
            CONTENT_TYPE,
            "\nhost:",
            self.host.as_str(),
            "\nx-amz-date:",
            amz_date.as_str(),
            "\n",
        ] {
            creq.update(part);
        }
        if let Some(token) = token {
            for part in ["x-amz-security-token:", token, "\n"] {
                creq.update(part);
            }
        }
        let signed_headers = if token.is_some() {
            SIGNED_WITH_TOKEN
        } else {
            SIGNED_WITHOUT_TOKEN
        };
        for part in [
            "x-amz-target:",
            TARGET,
            "\nx-amzn-query-mode:",
            QUERY_MODE,
            "\n\n",
            signed_headers,
            "\n",
            payload_hash,
        ] {
            creq.update(part);
        }
        let creq_hash = hex::encode(creq.finalize());

        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.signing_key(credentials, stamp.date_bytes()))
            .expect("HMAC takes keys of any length");
        for part in [
            ALGORITHM,
            "\n",
            amz_date.as_str(),
            "\n",
            date,
            self.scope_tail.as_str(),
            "\n",
            creq_hash.as_str(),
        ] {
            mac.update(part.as_bytes());
        }
        let signature = hex::encode(mac.finalize().into_bytes());
        let authorization = format!(
            "{ALGORITHM} Credential={}/{date}{}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id(),
            self.scope_tail,
        );
        Signature {
            amz_date,
            authorization,
        }
    }

    /// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`,
    /// derived once per day and credentials.
    fn signing_key(&self, credentials: &Credentials, date: [u8; 8]) -> [u8; 32] {
        let mut cached = self.key.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(k) = cached.as_ref()
            && k.date == date
            && k.access_key_id == credentials.access_key_id()
            && k.secret == credentials.secret_access_key()
        {
            return k.key;
        }
        let mut key = hmac(format!("AWS4{}", credentials.secret_access_key()).as_bytes(), &date);
        // scope_tail is "/{region}/{service}/aws4_request".
        for part in self.scope_tail[1..].split('/') {
            key = hmac(&key, part.as_bytes());
        }
        *cached = Some(SigningKey {
            date,
            access_key_id: credentials.access_key_id().to_owned(),
            secret: credentials.secret_access_key().to_owned(),
            key,
        });
        key
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// A UTC time to the second, as SigV4 writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    year: i64,
    month: u32,
    day: u32,
    secs_of_day: u32,
}

impl Stamp {
    fn of(time: SystemTime) -> Self {
        // Times before 1970 are not signable by AWS either; clamp rather than panic.
        let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
        let (days, secs_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
        // Days since the epoch to a proleptic Gregorian date (H. Hinnant, `civil_from_days`).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year,
            month,
            day,
            secs_of_day,
        }
    }

    /// `YYYYMMDDTHHMMSSZ`.
    fn date_time(self) -> String {
        let s = self.secs_of_day;
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            self.year,
            self.month,
            self.day,
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }

    /// `YYYYMMDD` as bytes (the signing key's date).
    fn date_bytes(self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out.copy_from_slice(&self.date_time().as_bytes()[..8]);
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    use aws_smithy_runtime_api::client::identity::Identity;
    use proptest::prelude::*;

    use super::*;

    /// One request to sign.
    struct Case<'a> {
        uri: &'a str,
        region: &'a str,
        credentials: &'a Credentials,
        time: SystemTime,
        length: &'a str,
        hash: &'a str,
    }

    /// The general signer's headers for the request.
    fn general(case: &Case<'_>) -> Vec<(String, String)> {
        let identity = Identity::new(case.credentials.clone(), None);
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(case.region)
            .name("sqs")
            .time(case.time)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let headers = [
            ("content-type", CONTENT_TYPE),
            ("x-amz-target", TARGET),
            ("x-amzn-query-mode", QUERY_MODE),
            ("content-length", case.length),
        ];
        let signable = SignableRequest::new(
            "POST",
            case.uri,
            headers.into_iter(),
            SignableBody::Precomputed(case.hash.to_owned()),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let (headers, _) = instructions.into_parts();
        let mut out: Vec<(String, String)> = headers
            .into_iter()
            .map(|h| (h.name().to_owned(), h.value().to_owned()))
            .collect();
        out.sort();
        out
    }

    /// Ours, with `signer` (made for the case's endpoint and region).
    fn ours(signer: &Signer, case: &Case<'_>) -> Vec<(String, String)> {
        let signature = signer.sign(case.credentials, case.time, case.length, case.hash);
        let mut out = vec![
            ("authorization".to_owned(), signature.authorization),
            ("x-amz-date".to_owned(), signature.amz_date),
        ];
        if let Some(token) = case.credentials.session_token() {
            out.push(("x-amz-security-token".to_owned(), token.to_owned()));
        }
        out.sort();
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn signature_is_the_general_signers(
            secs in 0u64..8_000_000_000,
            uri in prop::sample::select(vec![
                "https://sqs.eu-west-1.amazonaws.com/",
                "https://sqs.cn-north-1.amazonaws.com.cn/",
                "http://127.0.0.1:4566/",
                "http://localhost:80/",
                "https://localhost:443/",
                "https://sqs.local:8443/queues/a-b_c.d~e/",
            ]),
            region in "[a-z]{2}-[a-z]{4,9}-[1-9]",
            access in "[A-Z0-9]{16,20}",
            secret in "[A-Za-z0-9/+]{40}",
            token in prop::option::of("[A-Za-z0-9/+=]{20,400}"),
            length in 0usize..300_000,
            hash in "[0-9a-f]{64}",
        ) {
            let credentials = Credentials::new(access, secret, token, None, "test");
            let length = length.to_string();
            let case = Case {
                uri,
                region: &region,
                credentials: &credentials,
                time: UNIX_EPOCH + Duration::from_secs(secs),
                length: &length,
                hash: &hash,
            };
            let signer = Signer::new(&uri.parse().unwrap(), &region, "sqs").unwrap();
            let expected = general(&case);
            // Twice: the second signature comes from the cached key.
            prop_assert_eq!(ours(&signer, &case), expected.clone());
            prop_assert_eq!(ours(&signer, &case), expected);
        }
    }

    #[test]
    fn the_key_follows_the_day_and_the_credentials() {
        let uri = "https://sqs.eu-west-1.amazonaws.com/";
        let signer = Signer::new(&uri.parse().unwrap(), "eu-west-1", "sqs").unwrap();
        let day = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let a = Credentials::new("AKIDA", "secret-a", None, None, "test");
        let b = Credentials::new("AKIDA", "secret-b", None, None, "test");
        let c = Credentials::new("AKIDC", "secret-a", None, None, "test");
        for (credentials, time) in [
            (&a, day),
            (&b, day),
            (&c, day),
            (&a, day + Duration::from_secs(86_400)),
            (&a, day),
        ] {
            let case = Case {
                uri,
                region: "eu-west-1",
                credentials,
                time,
                length: "0",
                hash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            };
            assert_eq!(ours(&signer, &case), general(&case));
        }
    }

    #[test]
    fn paths_the_general_signer_would_rewrite_are_refused() {
        for uri in [
            "http://h/a//b/",
            "http://h/a/../b/",
            "http://h/a/./b/",
            "http://h/%41/",
            "http://h/a b/",
            "http://h/?x=1",
        ] {
            let Ok(parsed) = uri.parse::<http::Uri>() else { continue };
            assert!(Signer::new(&parsed, "eu-west-1", "sqs").is_err(), "{uri}");
        }
    }

    #[test]
    fn dates_match_the_calendar() {
        for (secs, expected) in [
            (0, "19700101T000000Z"),
            (951_782_400, "20000229T000000Z"),
            (1_795_000_000, "20261118T110640Z"),
            (4_102_444_799, "20991231T235959Z"),
            (4_102_444_800, "21000101T000000Z"),
        ] {
            assert_eq!(
                Stamp::of(UNIX_EPOCH + Duration::from_secs(secs)).date_time(),
                expected,
                "{secs}"
            );
        }
    }
}
