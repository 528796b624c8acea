//! `--tsa-url`: asks an RFC 3161 time-stamp authority, over HTTP(S), for a
//! token over each file the run writes, so the file's existence at that
//! time rests on the authority's clock rather than the operator's.

use crate::verify::timestamp::{self, Stamp, StampError};
use http_body_util::{BodyExt, Full, Limited};

/// An answer larger than this is not a token (they are a few KiB).
const MAX_ANSWER: usize = 1024 * 1024;
/// A stalled authority fails the write rather than the night.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Why no token was stored.
#[derive(Debug, thiserror::Error)]
pub enum TsaError {
    #[error("the time-stamp authority {url} could not be reached: {why}")]
    Unreachable { url: String, why: String },
    #[error("the time-stamp authority {url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("the time-stamp authority {url}: {why}")]
    Answer { url: String, why: StampError },
}

/// Why `--tsa-url` cannot be used (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum TsaUrlError {
    #[error(
        "--tsa-url takes an http:// or https:// URL of an RFC 3161 time-stamp authority, not {0:?}"
    )]
    Form(String),
    #[error("--tsa-url: this system's root certificates cannot be loaded for HTTPS: {0}")]
    NoRoots(String),
    #[error(
        "--tsa-url: a user or password in the URL is not sent (HTTP authentication is not \
         supported) and would be written into every report: give the authority's URL without it"
    )]
    Credentials,
}

/// The command line as reports and manifests show it: a `--tsa-url`'s
/// query (which may carry a key) left out.
pub fn shown_command(words: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut next_is_url = false;
    for w in words {
        if next_is_url {
            out.push(shown_url(&w));
        } else if let Some(url) = w.strip_prefix("--tsa-url=") {
            out.push(format!("--tsa-url={}", shown_url(url)));
        } else {
            out.push(w.clone());
        }
        next_is_url = w == "--tsa-url" && !next_is_url;
    }
    out
}

fn shown_url(url: &str) -> String {
    match url.parse::<hyper::Uri>() {
        Ok(u) if u.host().is_some() => {
            let port = u.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
            let scheme = u.scheme_str().unwrap_or("http");
            format!(
                "{scheme}://{}{port}{}",
                u.host().unwrap_or_default(),
                u.path()
            )
        }
        _ => "[a URL, not shown]".to_string(),
    }
}

/// Transient answers worth asking again (a busy or restarting authority).
const ATTEMPTS: u32 = 3;

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<bytes::Bytes>,
>;

/// A time-stamp authority.
pub struct Tsa {
    url: hyper::Uri,
    client: Client,
}

impl std::fmt::Debug for Tsa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tsa({})", self.url)
    }
}

impl Tsa {
    /// Checks the URL now: a typo is the operator's mistake, found before
    /// the run rather than after its reports are written.
    pub fn new(url: &str) -> Result<Tsa, TsaUrlError> {
        let bad = || TsaUrlError::Form(url.to_string());
        let uri: hyper::Uri = url.parse().map_err(|_| bad())?;
        let scheme_ok = matches!(uri.scheme_str(), Some("http") | Some("https"));
        if !scheme_ok || uri.host().is_none_or(str::is_empty) {
            return Err(bad());
        }
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(TsaUrlError::Credentials);
        }
        Ok(Tsa {
            url: uri,
            client: client().map_err(|e| TsaUrlError::NoRoots(e.to_string()))?,
        })
    }

    /// The authority's address as reports show it: scheme, host, port and
    /// path, never a user, password or query (which may hold a key).
    pub fn url(&self) -> String {
        shown_url(&self.url.to_string())
    }

    /// A token over a file's SHA-256: the authority's answer (DER, what
    /// `openssl ts -verify -in FILE.tsr` reads) and what it says.
    pub async fn stamp_hash(&self, hash: &[u8; 32]) -> Result<(Vec<u8>, Stamp), TsaError> {
        let hash = *hash;
        let nonce: [u8; 8] = rand::random();
        let request = timestamp::request(&hash, &nonce).ok_or_else(|| TsaError::Unreachable {
            url: self.url(),
            why: "the request could not be encoded".to_string(),
        })?;
        let answer = self.post_retrying(request).await?;
        let stamp = timestamp::check(&answer, &hash, &nonce).map_err(|why| TsaError::Answer {
            url: self.url(),
            why,
        })?;
        Ok((answer, stamp))
    }

    /// A connection that failed, or 429, 502, 503 or 504, is asked again
    /// (twice, after 0.25 s and 1 s): one busy moment of the authority must
    /// not fail a night whose verdict is decided.
    async fn post_retrying(&self, body: Vec<u8>) -> Result<Vec<u8>, TsaError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.post(body.clone()).await;
            let transient = match &result {
                Err(TsaError::Unreachable { .. }) => true,
                Err(TsaError::Status { status, .. }) => matches!(status, 429 | 502 | 503 | 504),
                _ => false,
            };
            if !transient || attempt >= ATTEMPTS {
                return result;
            }
            let wait = 250 * 4u64.pow(attempt - 1);
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
        }
    }

    async fn post(&self, body: Vec<u8>) -> Result<Vec<u8>, TsaError> {
        let unreachable = |why: String| TsaError::Unreachable {
            url: self.url(),
            why,
        };
        let req = hyper::Request::post(self.url.clone())
            .header("content-type", "application/timestamp-query")
            .header("accept", "application/timestamp-reply")
            .body(Full::new(bytes::Bytes::from(body)))
            .map_err(|e| unreachable(e.to_string()))?;
        let exchange = async {
            let resp = self.client.request(req).await.map_err(|e| {
                let source = std::error::Error::source(&e).map(|s| format!(": {s}"));
                unreachable(format!("{e}{}", source.unwrap_or_default()))
            })?;
            let status = resp.status().as_u16();
            if status != 200 {
                return Err(TsaError::Status {
                    url: self.url(),
                    status,
                });
            }
            let body = Limited::new(resp.into_body(), MAX_ANSWER).collect().await;
            body.map(|b| b.to_bytes().to_vec())
                .map_err(|e| unreachable(e.to_string()))
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| unreachable(format!("no answer in {} s", TIMEOUT.as_secs())))?
    }
}

fn client() -> Result<Client, rustls::Error> {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|e| rustls::Error::General(e.to_string()))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_show_the_authority_without_credentials() {
        let tsa = Tsa::new("https://tsa.example:8443/ts?apikey=k").expect("a URL");
        assert_eq!(tsa.url(), "https://tsa.example:8443/ts");
        assert!(matches!(
            Tsa::new("https://user:secret@tsa.example/ts"),
            Err(TsaUrlError::Credentials)
        ));
        let words = [
            "trailproof",
            "--tsa-url",
            "https://t.example/a?k=1",
            "--tsa-url=http://t.example?k=2",
        ];
        let shown = shown_command(words.iter().map(|w| w.to_string()));
        assert_eq!(shown[2], "https://t.example/a");
        assert_eq!(shown[3], "--tsa-url=http://t.example/");
        for bad in [
            "tsa.example",
            "ftp://tsa.example/",
            "http://",
            "https:///ts",
        ] {
            assert!(matches!(Tsa::new(bad), Err(TsaUrlError::Form(_))), "{bad}");
        }
    }
}
