//! Loading AWS configuration the way every AWS tool does (environment,
//! shared config and credentials files, `--profile`, SSO, web identity,
//! instance and container roles) and wording SDK errors as one sentence.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// What the command line may override.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Connect and first-byte timeout (default `DEFAULT_READ_TIMEOUT`):
    /// a server that never answers is retried, not waited on forever.
    pub read_timeout: Option<std::time::Duration>,
    /// `--endpoint-url`: every AWS service this run calls, as with a
    /// LocalStack-style endpoint (beats the `AWS_ENDPOINT_URL*` variables).
    pub endpoint_url: Option<String>,
}

use crate::sources::store::stall::DEFAULT_READ_TIMEOUT;

/// Loads the shared configuration. Endpoint overrides come from the standard
/// `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL_CLOUDTRAIL`
/// variables, which aws-config applies per service.
pub async fn load(opts: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &opts.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(u) = &opts.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    let t = opts.read_timeout.unwrap_or(DEFAULT_READ_TIMEOUT);
    // Connecting keeps the SDK's 3.1 s unless the read timeout is shorter;
    // a whole attempt (a listing's body included) gets four read timeouts.
    loader = loader.timeout_config(
        aws_smithy_types::timeout::TimeoutConfig::builder()
            .connect_timeout(t.min(std::time::Duration::from_millis(3100)))
            .read_timeout(t)
            .operation_attempt_timeout(t * 4)
            .build(),
    );
    let cfg = loader.load().await;
    if cfg.region().is_none() {
        // S3 needs some region to sign with; us-east-1 is where AWS tools default.
        return cfg.into_builder().region(Region::new("us-east-1")).build();
    }
    cfg
}

/// A page's NextToken; None when it is absent or empty (the last page).
pub(crate) fn next_token(token: Option<&str>) -> Option<String> {
    token.filter(|t| !t.is_empty()).map(str::to_string)
}

/// The S3 endpoint override in effect, if any.
pub(crate) fn s3_endpoint_override(cfg: &SdkConfig) -> Option<String> {
    // `--endpoint-url` beats the variables, as it does in the S3 client.
    if cfg.get_origin("endpoint_url").is_client_config() {
        return cfg.endpoint_url().map(str::to_string);
    }
    std::env::var("AWS_ENDPOINT_URL_S3")
        .ok()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
        .or_else(|| cfg.endpoint_url().map(str::to_string))
        .filter(|s| !s.is_empty())
}

/// Whether an endpoint names an IP address or localhost, where virtual-host
/// addressing (`bucket.host`) cannot work and path-style is needed.
pub(crate) fn needs_path_style(endpoint: &str) -> bool {
    let rest = endpoint
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(endpoint);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = match authority.rsplit_once('@') {
        Some((_, h)) => h,
        None => authority,
    };
    let host = if let Some(stripped) = host.strip_prefix('[') {
        stripped.split(']').next().unwrap_or(stripped)
    } else {
        host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok()
}

/// One line for an SDK error: the Display text of it and its causes,
/// each once (an SDK error repeats its cause's words), never the Debug dump
/// that `DisplayErrorContext` appends.
pub fn sentence(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string().replace('\n', " ");
        let text = text.trim();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(text)) {
            parts.push(text.to_string());
        }
        cur = err.source();
    }
    let text = parts.join(": ");
    if text.len() > 400 {
        let cut = text
            .char_indices()
            .nth(400)
            .map(|(i, _)| i)
            .unwrap_or(text.len());
        format!("{}...", &text[..cut])
    } else {
        text
    }
}

/// Why an AWS call failed, by kind (told by the SDK's error type and the
/// service's error code, never by words), with one sentence to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{sentence}")]
pub struct AwsError {
    pub kind: AwsErrorKind,
    pub sentence: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// No credentials, or unusable ones.
    Credentials,
    /// The service refused the caller (a missing permission).
    Denied,
    /// Anything else: the network, throttling past the retries, a fault.
    Other,
}

impl AwsError {
    /// An SDK error's kind and sentence.
    pub fn of<E, R>(e: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> AwsError
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let code = e.as_service_error().and_then(|s| s.code());
        let kind = match code {
            _ if is_credentials_error(e) => AwsErrorKind::Credentials,
            Some(
                "AccessDenied"
                | "AccessDeniedException"
                | "UnauthorizedOperation"
                | "AuthorizationError",
            ) => AwsErrorKind::Denied,
            _ => AwsErrorKind::Other,
        };
        AwsError {
            kind,
            sentence: sentence(e),
        }
    }

    /// A write's error: a service's answer as its code and message (an
    /// unmodelled one's Display is a debug dump), and what the caller
    /// needs when it was refused.
    pub fn of_write<E, R>(
        e: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
        permission: &str,
    ) -> AwsError
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let mut err = AwsError::of(e);
        if let Some(code) = e.as_service_error().and_then(|s| s.code()) {
            let message = e.as_service_error().and_then(|s| s.message());
            err.sentence = match message.filter(|m| !m.is_empty() && *m != code) {
                Some(m) => format!("{code}: {m}"),
                None => code.to_string(),
            };
        }
        if err.kind == AwsErrorKind::Denied {
            err.sentence = format!("{}; the caller needs {permission}", err.sentence);
        }
        err
    }

    /// A failure that is no SDK error (an answer without what it must hold).
    pub fn other(sentence: impl Into<String>) -> AwsError {
        AwsError {
            kind: AwsErrorKind::Other,
            sentence: sentence.into(),
        }
    }

    /// What to grant when the service refused the caller: `permission`
    /// when the error is a refusal, else nothing.
    pub fn grant(&self, permission: &str) -> String {
        match self.kind {
            AwsErrorKind::Denied => format!("; grant {permission} to see it"),
            _ => String::new(),
        }
    }

    /// The same error, its sentence led by what was asked.
    pub fn asking(self, what: &str) -> AwsError {
        AwsError {
            sentence: format!("{what}: {}", self.sentence),
            ..self
        }
    }
}

/// Whether an error comes from missing or unusable credentials: the
/// credential provider's own error type somewhere in its chain of causes
/// (told by type, never by the words of a message).
pub(crate) fn is_credentials_error(e: &(dyn std::error::Error + 'static)) -> bool {
    use aws_credential_types::provider::error::CredentialsError;
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.downcast_ref::<CredentialsError>().is_some() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// An SDK time as the report's (None past chrono's range).
pub(crate) fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<crate::verify::time::Timestamp> {
    use chrono::TimeZone;
    chrono::Utc
        .timestamp_opt(t.secs(), t.subsec_nanos())
        .single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("dispatch failed")]
    struct Dispatch(#[source] aws_credential_types::provider::error::CredentialsError);

    #[test]
    fn credentials_are_told_by_type_not_words() {
        use aws_credential_types::provider::error::CredentialsError;
        let wrapped = Dispatch(CredentialsError::not_loaded("no providers in chain"));
        assert!(is_credentials_error(&wrapped));
        let words = std::io::Error::other("the credential file says no providers in chain");
        assert!(!is_credentials_error(&words));
    }

    #[test]
    fn path_style_for_ip_and_localhost() {
        assert!(needs_path_style("http://127.0.0.1:9000"));
        assert!(needs_path_style("http://localhost:9000/"));
        assert!(needs_path_style("http://[::1]:9000"));
        assert!(needs_path_style("10.0.0.5"));
        assert!(!needs_path_style("https://s3.eu-west-1.amazonaws.com"));
        assert!(!needs_path_style("https://minio.example.com:9000"));
    }
}
