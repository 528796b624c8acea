//! Where public keys come from: a file (offline) or CloudTrail's
//! ListPublicKeys (live). The engine asks through [`KeySource`] and never
//! knows which.

use crate::verify::pubkeys::{PublicKey, PublicKeySet};
use crate::verify::time::Timestamp;
use futures::future::BoxFuture;
use futures::FutureExt;

/// Why keys could not be fetched. Fatal for the run: without keys nothing verifies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeySourceError {
    #[error("{0}")]
    Unavailable(String),
}

/// Supplies CloudTrail public keys for a region and time range.
pub trait KeySource: Send + Sync {
    /// Keys valid at some point in [start, end] for digests delivered by `region`.
    fn keys_between<'a>(
        &'a self,
        region: &'a str,
        start: Timestamp,
        end: Timestamp,
    ) -> BoxFuture<'a, Result<Vec<PublicKey>, KeySourceError>>;
}

/// Keys from a file: every key is offered whatever the range, because the
/// file was made for this purpose and validity is checked per digest anyway.
#[derive(Debug, Clone)]
pub(crate) struct FileKeys(pub PublicKeySet);

impl KeySource for FileKeys {
    fn keys_between<'a>(
        &'a self,
        _region: &'a str,
        _start: Timestamp,
        _end: Timestamp,
    ) -> BoxFuture<'a, Result<Vec<PublicKey>, KeySourceError>> {
        let keys: Vec<PublicKey> = self.0.sorted().into_iter().cloned().collect();
        async move { Ok(keys) }.boxed()
    }
}
