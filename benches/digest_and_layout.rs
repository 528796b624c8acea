//! Digest parse + signature verification per second, and key-layout parsing.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::collections::HashMap;
use std::hint::black_box;
use trailproof::simulate::{write_trail, SimSpec};
use trailproof::verify::digest_check::{check_digest, DigestCheck, DigestInput};
use trailproof::verify::layout::{parse_digest_key, parse_log_key};
use trailproof::verify::pubkeys::PublicKeySet;
use trailproof::verify::time::parse_user_time;

fn bench(c: &mut Criterion) {
    // A real, simulated digest with 12 log entries and its metadata.
    let dir = tempfile::tempdir().unwrap();
    let spec = SimSpec {
        out: dir.path().to_path_buf(),
        start: parse_user_time("2026-03-01").unwrap(),
        hours: 2,
        logs_per_hour: 12,
        records_per_log: 1,
        bucket: "b".into(),
        log_bucket: None,
        account: "123456789012".into(),
        trail_name: "t".into(),
        home_region: "us-east-1".into(),
        region: "us-east-1".into(),
        prefix: None,
        org_id: None,
        window_offset_seconds: 0,
        seed: Some(1),
        damage: vec![],
        damage_chains: Vec::new(),
        keys_file: None,
        switch_bucket: None,
        backfill: None,
        rotate_key: None,
        signer: None,
        no_gap_records: false,
        trail_account: None,
    };
    let out = write_trail(&spec).unwrap();
    let key = out.digest_keys[1].clone();
    let path = dir.path().join("b").join(&key);
    let gz = std::fs::read(&path).unwrap();
    let meta: HashMap<String, String> = serde_json::from_slice(
        &std::fs::read(format!("{}.metadata.json", path.display())).unwrap(),
    )
    .unwrap();
    let keys = PublicKeySet::from_json(&std::fs::read(&out.keys_file).unwrap()).unwrap();
    let input = DigestInput {
        bucket: "b",
        key: &key,
        compressed: &gz,
        metadata: &meta,
        backfill: false,
        key_region: "us-east-1",
    };
    assert!(matches!(
        check_digest(&input, &keys),
        DigestCheck::Verified(_)
    ));

    let mut g = c.benchmark_group("digest");
    g.throughput(Throughput::Elements(1));
    g.bench_function("inflate+parse+verify", |b| {
        b.iter(|| check_digest(black_box(&input), &keys))
    });
    g.finish();

    let digest_key = key.clone();
    let log_key = out.log_keys[0].clone();
    let mut g = c.benchmark_group("layout");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_digest_key", |b| {
        b.iter(|| parse_digest_key(black_box(&digest_key)).unwrap())
    });
    g.bench_function("parse_log_key", |b| {
        b.iter(|| parse_log_key(black_box(&log_key)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
