//! `--tsa-url`: every file a run writes gets an RFC 3161 token from the
//! authority (a local `openssl ts -reply` responder), which `openssl ts
//! -verify -CAfile ROOT` accepts over the file's bytes and refuses once
//! the file changes; an authority that fails is the operator's problem
//! (exit 2, one sentence), never a silent missing token.

use crate::support::trail;
use crate::support::tsa;
use std::path::Path;

/// The end of every window here (the trails are three hours long).
const END: &str = "2026-03-01T03:00:00Z";

fn validate(t: &trail::Trail, out: &Path, tsa_url: &str, extra: &[&str]) -> trail::Run {
    let flags = [&["--tsa-url", tsa_url][..], extra].concat();
    trail::validate_local(t, END, &out.join("report.json"), &flags)
}

#[test]
fn every_file_written_is_time_stamped_and_openssl_verifies_it() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let authority = rt.block_on(tsa::start());
    let t = trail::simulate(&["--start-time", "2026-03-01", "--hours", "3", "--seed", "4"]);
    let out = tempfile::tempdir().unwrap();
    let o = out.path();
    let (html, metrics) = (o.join("r.html"), o.join("m.prom"));
    let extra = [
        "--html",
        html.to_str().unwrap(),
        "--metrics",
        metrics.to_str().unwrap(),
    ];
    let r = validate(&t, o, &authority.url, &extra);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The text report says so above its verdict.
    let text = std::fs::read_to_string(o.join("report.json")).unwrap();
    assert!(text.contains("time-stamped by"), "{text}");
    for f in ["report.json", "r.html", "m.prom"] {
        assert!(tsa::openssl_verifies(&o.join(f), &authority.root), "{f}");
    }
    assert_eq!(
        authority.served.load(std::sync::atomic::Ordering::SeqCst),
        3
    );
    // Another root does not vouch for the authority.
    let other = rt.block_on(tsa::start());
    assert!(!tsa::openssl_verifies(&o.join("report.json"), &other.root));
    // The token dates these bytes only.
    let page = std::fs::read(&html).unwrap();
    std::fs::write(&html, [&page[..], b" "].concat()).unwrap();
    assert!(!tsa::openssl_verifies(&html, &authority.root));
    // A run without --tsa-url leaves no earlier token beside its files.
    let unstamped = trail::validate_local(&t, END, &o.join("report.json"), &[]);
    assert_eq!(unstamped.code, 0);
    assert!(!o.join("report.json.tsr").exists());
}

/// Authorities sign with other keys and digests than P-256 and SHA-256:
/// their tokens are checked as well, and accepted.
#[test]
fn authorities_signing_with_p384_or_rsa_and_sha_384_or_512_are_accepted() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let t = trail::simulate(&["--start-time", "2026-03-01", "--hours", "3", "--seed", "4"]);
    for signing in [tsa::P384_SHA384, tsa::RSA_SHA512] {
        let authority = rt.block_on(tsa::start_signing(signing));
        let out = tempfile::tempdir().unwrap();
        let r = validate(&t, out.path(), &authority.url, &[]);
        assert_eq!(r.code, 0, "{}: {}", signing.digest, r.stderr);
        let report = out.path().join("report.json");
        assert!(
            tsa::openssl_verifies(&report, &authority.root),
            "{}",
            signing.digest
        );
        // Checked, not waved through: a spoiled signature is refused.
        authority
            .corrupt
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let r = validate(&t, out.path(), &authority.url, &[]);
        assert_eq!(r.code, 2, "{}: {}", signing.digest, r.stderr);
        assert!(
            r.stderr.contains("signature does not verify"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn an_authority_that_fails_is_exit_2_in_one_sentence() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let authority = rt.block_on(tsa::start());
    let t = trail::simulate(&["--start-time", "2026-03-01", "--hours", "3", "--seed", "4"]);
    let out = tempfile::tempdir().unwrap();
    let o = out.path();
    assert_eq!(validate(&t, o, &authority.url, &[]).code, 0);
    assert!(o.join("report.json.tsr").exists());
    // The authority answers 500: no token, and the earlier one is gone
    // (it would date bytes it never saw).
    authority
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let r = validate(&t, o, &authority.url, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("answered HTTP 500"), "{}", r.stderr);
    assert!(!o.join("report.json.tsr").exists());
    // A token whose signature does not verify is refused when it is made,
    // not found at the auditor's desk.
    authority
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    authority
        .corrupt
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let r = validate(&t, o, &authority.url, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("signature does not verify"),
        "{}",
        r.stderr
    );
    // Nothing listens there.
    let closed = validate(&t, o, "http://127.0.0.1:9/tsa", &[]);
    assert_eq!(closed.code, 2, "{}", closed.stderr);
    assert!(
        closed.stderr.contains("could not be reached"),
        "{}",
        closed.stderr
    );
    // Not an http(s) URL: a usage error before the run.
    let typo = validate(&t, o, "tsa.example.com", &[]);
    assert_eq!(typo.code, 2, "{}", typo.stderr);
    assert!(typo.stderr.contains("--tsa-url takes"), "{}", typo.stderr);
}
