//! Where SendMessage goes, resolved as the SDK's SQS client resolves it.
//!
//! A configured endpoint wins, in the SDK's order: one set on the configuration in code,
//! else `AWS_ENDPOINT_URL_SQS` / the profile's `sqs` `endpoint_url`, else `AWS_ENDPOINT_URL`
//! / the profile's `endpoint_url` (the emulator). Without one, the SDK's endpoint rules for
//! the JSON protocol give `https://sqs.{region}.{dnsSuffix}`; the partitions a Lambda of
//! ours can run in are `aws` and `aws-us-gov` (`amazonaws.com`) and `aws-cn`
//! (`amazonaws.com.cn`). FIPS and dual-stack endpoints are other hosts: asked for, they are
//! refused at start-up rather than silently not used.

use aws_types::SdkConfig;
use aws_types::service_config::ServiceConfigKey;

use crate::SetupError;

/// The request URI of every SendMessage (the endpoint with the operation's path `/`) and
/// the signing region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub uri: String,
    pub region: String,
}

impl Endpoint {
    /// The endpoint of an SDK configuration.
    pub fn of(config: &SdkConfig) -> Result<Self, SetupError> {
        let region = config.region().ok_or(SetupError::NoRegion)?.to_string();
        if config.use_fips() == Some(true) || config.use_dual_stack() == Some(true) {
            return Err(SetupError::Endpoint(
                "FIPS and dual-stack SQS endpoints are not supported".into(),
            ));
        }
        let configured = if config.get_origin("endpoint_url").is_client_config() {
            config.endpoint_url().map(str::to_owned)
        } else {
            let key = ServiceConfigKey::builder()
                .service_id("SQS")
                .env("AWS_ENDPOINT_URL")
                .profile("endpoint_url")
                .build()
                .map_err(|e| SetupError::Endpoint(e.to_string()))?;
            config
                .service_config()
                .and_then(|c| c.load_config(key))
                .or_else(|| config.endpoint_url().map(str::to_owned))
        };
        let base = match configured {
            Some(url) => url,
            None => default_endpoint(&region)?,
        };
        Ok(Self {
            uri: uri_of(&base)?,
            region,
        })
    }
}

/// The SDK's rules without an endpoint configured.
pub fn default_endpoint(region: &str) -> Result<String, SetupError> {
    let valid = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(SetupError::Endpoint(format!("invalid region {region:?}")));
    }
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else if region.starts_with("us-iso") || region.starts_with("eu-isoe") || region.starts_with("eusc-") {
        return Err(SetupError::Endpoint(format!(
            "region {region} is in a partition without a default endpoint here; set AWS_ENDPOINT_URL_SQS"
        )));
    } else {
        "amazonaws.com"
    };
    Ok(format!("https://sqs.{region}.{suffix}"))
}

/// The endpoint with the operation path `/` appended, as the SDK's request URI.
fn uri_of(base: &str) -> Result<String, SetupError> {
    let uri: http::Uri = base
        .parse()
        .map_err(|e| SetupError::Endpoint(format!("endpoint {base:?}: {e}")))?;
    if uri.scheme().is_none() || uri.authority().is_none() || uri.query().is_some() {
        return Err(SetupError::Endpoint(format!(
            "endpoint {base:?} is not scheme://host[:port][/path]"
        )));
    }
    Ok(format!("{}/", base.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};

    fn sdk_endpoint(region: &str) -> String {
        let params = Params::builder()
            .region(region)
            .use_fips(false)
            .use_dual_stack(false)
            .build()
            .unwrap();
        let resolver = DefaultResolver::new();
        let endpoint = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(resolver.resolve_endpoint(&params));
        endpoint.unwrap().url().to_owned()
    }

    #[test]
    fn default_endpoints_match_the_sdk_rules() {
        for region in [
            "us-east-1",
            "eu-west-1",
            "ap-southeast-2",
            "il-central-1",
            "us-gov-west-1",
            "cn-north-1",
            "cn-northwest-1",
        ] {
            assert_eq!(default_endpoint(region).unwrap(), sdk_endpoint(region), "{region}");
        }
        assert!(default_endpoint("us-iso-east-1").is_err());
        assert!(default_endpoint("x/../evil").is_err());
    }

    #[test]
    fn configured_endpoint_gets_the_operation_path() {
        assert_eq!(uri_of("http://127.0.0.1:4566").unwrap(), "http://127.0.0.1:4566/");
        assert_eq!(uri_of("http://127.0.0.1:4566/").unwrap(), "http://127.0.0.1:4566/");
        assert!(uri_of("127.0.0.1:4566").is_err());
    }
}
