//! Inflate + SHA-256 throughput (MB/s of inflated bytes) per decompressor,
//! to choose the one the validator uses. Correctness first: each candidate
//! must reject data after the gzip member.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sha2::{Digest, Sha256};
use std::hint::black_box;

/// libdeflater needs the whole member and the output size up front; the
/// trailing-data check is ours: the member must end exactly at the input's end.
fn libdeflater_hash(gz: &[u8]) -> Option<String> {
    if gz.len() < 18 {
        return None;
    }
    let isize = u32::from_le_bytes(gz[gz.len() - 4..].try_into().ok()?) as usize;
    let mut out = vec![0u8; isize];
    let mut d = libdeflater::Decompressor::new();
    let n = d.gzip_decompress(gz, &mut out).ok()?;
    if n != isize {
        return None;
    }
    Some(hex::encode(Sha256::digest(&out[..n])))
}

fn bench(c: &mut Criterion) {
    let json = common::log_json(1_500_000);
    let gz = trailproof::gzip::gzip(&json);
    let want = hex::encode(Sha256::digest(&json));
    assert_eq!(
        trailproof::gzip::hash_stream(&gz[..], u64::MAX)
            .unwrap()
            .sha256_hex,
        want
    );
    assert_eq!(libdeflater_hash(&gz).unwrap(), want);
    eprintln!(
        "log: {} bytes inflated, {} compressed ({:.1}:1)",
        json.len(),
        gz.len(),
        json.len() as f64 / gz.len() as f64
    );

    let mut g = c.benchmark_group("inflate+sha256");
    g.throughput(Throughput::Bytes(json.len() as u64));
    g.bench_function("flate2-zlib-rs streaming (chosen)", |b| {
        b.iter(|| trailproof::gzip::hash_stream(black_box(&gz[..]), u64::MAX).unwrap())
    });
    g.bench_function("libdeflater whole-buffer", |b| {
        b.iter(|| libdeflater_hash(black_box(&gz)).unwrap())
    });
    g.bench_function("sha256 only", |b| {
        b.iter(|| Sha256::digest(black_box(&json)))
    });
    g.bench_function("flate2-zlib-rs inflate only", |b| {
        b.iter(|| trailproof::gzip::inflate_stream(black_box(&gz[..]), u64::MAX, |_| {}).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
