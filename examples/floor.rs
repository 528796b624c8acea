//! The machine's floor for the comparison: inflate + SHA-256 every CloudTrail
//! log file under a directory on all cores with the validator's decompressor,
//! and nothing else (no digests, no listing, no report).
//!
//! Usage: cargo run --release --example floor -- DIR

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.to_string_lossy().contains("/CloudTrail/")
            && p.to_string_lossy().ends_with(".json.gz")
        {
            out.push(p);
        }
    }
}

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: floor DIR");
        std::process::exit(2);
    };
    let mut files = Vec::new();
    collect(std::path::Path::new(&dir), &mut files);
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let bytes = AtomicU64::new(0);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(f) = files.get(i) else { break };
                let data = std::fs::read(f).expect("read");
                let h = trailproof::verify::gzip::hash_stream(&data[..], u64::MAX).expect("gzip");
                bytes.fetch_add(h.inflated_len, Ordering::Relaxed);
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let b = bytes.load(Ordering::Relaxed);
    println!(
        "floor: {} files, {:.1} MB inflated, {:.3} s, {:.0} MB/s on {threads} threads",
        files.len(),
        b as f64 / 1e6,
        secs,
        b as f64 / 1e6 / secs
    );
}
