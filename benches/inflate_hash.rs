//! Inflate + SHA-256 throughput (MB/s of inflated bytes) of the two
//! inflaters the validator uses, side by side. Correctness first: both
//! reject data after the gzip member (tests in src/gzip).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sha2::{Digest, Sha256};
use std::hint::black_box;

fn whole(gz: &[u8]) -> trailproof::verify::gzip::StreamHash {
    trailproof::verify::gzip::hash_bytes_observed(gz, u64::MAX, |_| {}).unwrap()
}

fn bench(c: &mut Criterion) {
    let json = common::log_json(1_500_000);
    let gz = trailproof::verify::gzip::gzip(&json);
    let want = hex::encode(Sha256::digest(&json));
    assert_eq!(
        trailproof::verify::gzip::hash_stream(&gz[..], u64::MAX)
            .unwrap()
            .sha256_hex,
        want
    );
    assert_eq!(whole(&gz).sha256_hex, want);
    eprintln!(
        "log: {} bytes inflated, {} compressed ({:.1}:1)",
        json.len(),
        gz.len(),
        json.len() as f64 / gz.len() as f64
    );

    let mut g = c.benchmark_group("inflate+sha256");
    g.throughput(Throughput::Bytes(json.len() as u64));
    g.bench_function("flate2-zlib-rs streaming (files over 4 MiB)", |b| {
        b.iter(|| trailproof::verify::gzip::hash_stream(black_box(&gz[..]), u64::MAX).unwrap())
    });
    g.bench_function("libdeflate whole-buffer (chosen up to 4 MiB)", |b| {
        b.iter(|| whole(black_box(&gz)))
    });
    // The watch as a run uses it (one search for the eventName key, then
    // the name after it looked up: 22 names), against the three name-tail
    // finders it replaced and the two before those.
    g.bench_function(
        "libdeflate whole-buffer + watch (eventName key, 22 names)",
        |b| {
            b.iter(|| {
                let mut w = trailproof::verify::record_watch::RecordWatch::new();
                let h =
                    trailproof::verify::gzip::hash_bytes_observed(black_box(&gz), u64::MAX, |c| {
                        w.feed(c)
                    });
                (h.unwrap(), w.hit, w.bucket_hit)
            })
        },
    );
    let three = [
        memchr::memmem::Finder::new(b"Logging\""),
        memchr::memmem::Finder::new(b"Trail\""),
        memchr::memmem::Finder::new(b"Selectors\""),
    ];
    g.bench_function("libdeflate whole-buffer + 3 names (memchr, before)", |b| {
        b.iter(|| {
            let mut hit = false;
            let h = trailproof::verify::gzip::hash_bytes_observed(black_box(&gz), u64::MAX, |c| {
                hit |= three.iter().any(|f| f.find(c).is_some())
            });
            (h.unwrap(), hit)
        })
    });
    let two = [
        memchr::memmem::Finder::new(b"Logging\""),
        memchr::memmem::Finder::new(b"Trail\""),
    ];
    g.bench_function("libdeflate whole-buffer + 2 names", |b| {
        b.iter(|| {
            let mut hit = false;
            let h = trailproof::verify::gzip::hash_bytes_observed(black_box(&gz), u64::MAX, |c| {
                hit |= two.iter().any(|f| f.find(c).is_some())
            });
            (h.unwrap(), hit)
        })
    });
    g.bench_function("sha256 only", |b| {
        b.iter(|| Sha256::digest(black_box(&json)))
    });
    g.bench_function("flate2-zlib-rs inflate only", |b| {
        b.iter(|| {
            trailproof::verify::gzip::inflate_stream(black_box(&gz[..]), u64::MAX, |_| {}).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
