//! The state key held by AWS KMS: an HMAC_256 key whose secret never
//! leaves KMS. Sealing calls GenerateMac and checking calls VerifyMac, so a
//! job that only checks (merge, `validate --local`) can be given
//! kms:VerifyMac alone and cannot seal a forgery, and every seal made is a
//! CloudTrail event of its own.
//!
//! The seals are few (one per checkpoint, shard report or manifest) and
//! are asked for from code that is not async: each call runs on a thread of
//! its own that drives the key's small runtime, which keeps the SDK's
//! pooled connection alive between calls.

use crate::sources::aws::{sentence, AwsOptions};
use crate::verify::state_key::{KeyError, Purpose, StateKey};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::MacAlgorithmSpec;
use std::future::Future;

/// A KMS HMAC key named by its ARN.
pub(crate) struct KmsKey {
    arn: String,
    client: aws_sdk_kms::Client,
    /// Taken out and shut down in the background on drop: a runtime must
    /// not be dropped where async code runs.
    rt: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for KmsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KmsKey({})", self.arn)
    }
}

/// Whether `s` names a KMS key by ARN (`arn:<partition>:kms:<region>:<account>:key/<id>`).
pub(crate) fn is_key_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kms"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("key/")
}

impl KmsKey {
    /// A client for the key's own region (from its ARN), with the run's
    /// profile; nothing is called until the first seal.
    pub fn open(
        arn: &str,
        profile: Option<&str>,
        endpoint_url: Option<&str>,
    ) -> Result<KmsKey, KeyError> {
        if !is_key_arn(arn) {
            return Err(KeyError(format!(
                "{arn} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID; an alias is not \
                 taken, as it can be pointed at another key)"
            )));
        }
        let region = arn.split(':').nth(3).unwrap_or_default().to_string();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| KeyError(format!("cannot start the KMS client: {e}")))?;
        let opts = AwsOptions {
            profile: profile.map(str::to_string),
            region: Some(region),
            read_timeout: None,
            endpoint_url: endpoint_url.map(str::to_string),
        };
        let cfg = match on_own_thread(&rt, crate::sources::aws::load(&opts)) {
            Ok(cfg) => cfg,
            Err(e) => {
                // Dropped here, inside the caller's runtime, it would panic.
                rt.shutdown_background();
                return Err(e);
            }
        };
        Ok(KmsKey {
            arn: arn.to_string(),
            client: aws_sdk_kms::Client::new(&cfg),
            rt: Some(rt),
        })
    }

    /// GetPublicKey of an asymmetric SIGN_VERIFY key: its SubjectPublicKeyInfo
    /// DER and the signing algorithms it offers.
    pub(crate) fn public_key(&self) -> Result<(Vec<u8>, Vec<String>), KeyError> {
        let req = self.client.get_public_key().key_id(&self.arn).send();
        let out = self.call(req)?.map_err(|e| {
            KeyError(format!(
                "KMS GetPublicKey of {}: {}",
                self.arn,
                sentence(&e)
            ))
        })?;
        let der = out
            .public_key()
            .map(|b| b.as_ref().to_vec())
            .unwrap_or_default();
        let algorithms = out
            .signing_algorithms()
            .iter()
            .map(|a| a.as_str().to_string())
            .collect();
        Ok((der, algorithms))
    }

    /// KMS Sign over a SHA-256 digest (MessageType DIGEST: a report is
    /// longer than the 4,096 bytes a raw message may be).
    pub(crate) fn sign_digest(&self, digest: &[u8], algorithm: &str) -> Result<Vec<u8>, KeyError> {
        use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
        let req = self
            .client
            .sign()
            .key_id(&self.arn)
            .message(Blob::new(digest))
            .message_type(MessageType::Digest)
            .signing_algorithm(SigningAlgorithmSpec::from(algorithm))
            .send();
        let out = self
            .call(req)?
            .map_err(|e| KeyError(format!("KMS Sign with {}: {}", self.arn, sentence(&e))))?;
        out.signature()
            .map(|s| s.as_ref().to_vec())
            .ok_or_else(|| KeyError(format!("KMS Sign with {} returned no signature", self.arn)))
    }

    fn call<F: Future + Send>(&self, f: F) -> Result<F::Output, KeyError>
    where
        F::Output: Send,
    {
        let rt = self
            .rt
            .as_ref()
            .ok_or_else(|| KeyError("the KMS client is closed".into()))?;
        on_own_thread(rt, f)
    }
}

/// Drives `f` on `rt` from a fresh thread, so that it may be called from
/// inside another runtime's worker.
fn on_own_thread<F: Future + Send>(
    rt: &tokio::runtime::Runtime,
    f: F,
) -> Result<F::Output, KeyError>
where
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| rt.block_on(f))
            .join()
            .map_err(|_| KeyError("the KMS call failed unexpectedly".to_string()))
    })
}

impl Drop for KmsKey {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl StateKey for KmsKey {
    fn describe(&self) -> String {
        format!("KMS HMAC key {}", self.arn)
    }

    fn sign(&self, purpose: Purpose, body: &[u8]) -> Result<String, KeyError> {
        let req = self
            .client
            .generate_mac()
            .key_id(&self.arn)
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .message(Blob::new(purpose.short_message(body)))
            .send();
        let out = self.call(req)?.map_err(|e| {
            KeyError(format!(
                "KMS GenerateMac with {}: {}",
                self.arn,
                sentence(&e)
            ))
        })?;
        out.mac()
            .map(|m| hex::encode(m.as_ref()))
            .ok_or_else(|| KeyError(format!("KMS GenerateMac with {} returned no MAC", self.arn)))
    }

    fn verify(&self, purpose: Purpose, body: &[u8], mac_hex: &str) -> Result<bool, KeyError> {
        let Ok(mac) = hex::decode(mac_hex.trim()) else {
            return Ok(false);
        };
        // HMAC_SHA_256 MACs are 32 bytes: anything else is no seal of
        // ours, and not worth a call that KMS would refuse.
        if mac.len() != 32 {
            return Ok(false);
        }
        let req = self
            .client
            .verify_mac()
            .key_id(&self.arn)
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .message(Blob::new(purpose.short_message(body)))
            .mac(Blob::new(mac))
            .send();
        match self.call(req)? {
            Ok(out) => Ok(out.mac_valid()),
            // KMS answers a MAC that does not verify with this error.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_kms_invalid_mac_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(KeyError(format!(
                "KMS VerifyMac with {}: {}",
                self.arn,
                sentence(&e)
            ))),
        }
    }
}

/// The trail's KMS key's state (DescribeKey, in the key's region): Ok(None)
/// when the trail uses no KMS key; Err when KMS refused or failed.
pub(crate) async fn trail_key_state(
    cfg: &aws_config::SdkConfig,
    key: Option<&str>,
) -> Result<Option<(String, String, Option<String>)>, crate::sources::aws::AwsError> {
    let Some(key) = key else {
        return Ok(None);
    };
    // Only an ARN names its region (a bare id or alias could name another
    // region's key).
    if !key.starts_with("arn:") {
        return Err(crate::sources::aws::AwsError::other(format!(
            "{key} is not a KMS key ARN: its region is unknown"
        )));
    }
    let region = key
        .split(':')
        .nth(3)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    let mut b = aws_sdk_kms::config::Builder::from(cfg);
    if let Some(r) = region {
        b = b.region(aws_config::Region::new(r));
    }
    let client = aws_sdk_kms::Client::from_conf(b.build());
    let out = client.describe_key().key_id(key).send().await;
    let meta = out.map_err(|e| crate::sources::aws::AwsError::of(&e).asking("KMS DescribeKey"))?;
    let none = || crate::sources::aws::AwsError::other("KMS DescribeKey: no key metadata");
    let m = meta.key_metadata().ok_or_else(none)?;
    let state = m.key_state().map_or("unknown", |s| s.as_str()).to_string();
    let deletion = m.deletion_date().map(|d| d.to_string());
    Ok(Some((key.to_string(), state, deletion)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_kms_key_arns_are_taken() {
        assert!(is_key_arn(
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ));
        assert!(is_key_arn(
            "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/state"
        ));
        assert!(!is_key_arn("arn:aws:kms:eu-west-1:1111:key/x"));
        assert!(!is_key_arn("arn:aws:s3:::bucket"));
        // An alias can be re-pointed at another key by whoever may update it.
        assert!(!is_key_arn(
            "arn:aws:kms:us-east-1:111122223333:alias/state"
        ));
        assert!(!is_key_arn("file:/tmp/key"));
    }
}
