//! `trailproof verify-signature`: checks one detached signature the way
//! openssl does, for an auditor who has this tool rather than openssl.
//! Exit 0 when it verifies, 1 when it does not, 2 when it cannot be asked.

use super::{usage, CommandError};
use crate::cli::VerifySignatureArgs;
use crate::verify::signature::{PublicKey, SignatureError};

pub fn run(args: &VerifySignatureArgs) -> Result<i32, CommandError> {
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|e| usage(format!("cannot read {}: {e}", p.display())))
    };
    use crate::sources::output::{beside, Destination};
    let sig_path = match (
        &args.signature,
        beside(&Destination::File(args.file.clone())).0,
    ) {
        (Some(given), _) => given.clone(),
        (None, Destination::File(sig)) => sig,
        (None, other) => other.to_string().into(),
    };
    let pem = String::from_utf8_lossy(&read(&args.public_key)?).into_owned();
    let key = PublicKey::from_pem(&pem)
        .map_err(|e| usage(format!("{}: {e}", args.public_key.display())))?;
    let (bytes, signature) = (read(&args.file)?, read(&sig_path)?);
    let theirs = key.fingerprint();
    if let Some(want) = args.fingerprint.as_deref() {
        if !want.trim().eq_ignore_ascii_case(&theirs) {
            println!("Verification failure: the public key is {theirs}, not the signer {want}");
            return Ok(1);
        }
    }
    match key.verify(&bytes, &signature) {
        Ok(()) => {
            println!("Verified OK (signer {})", key.fingerprint());
            Ok(0)
        }
        Err(SignatureError::Mismatch) => {
            println!(
                "Verification failure: {} was not signed by this key as it is",
                args.file.display()
            );
            Ok(1)
        }
        Err(e) => Err(usage(e)),
    }
}
