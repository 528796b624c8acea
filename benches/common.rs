//! Shared bench input: a CloudTrail-like log of about 1.5 MB inflated.

use rand::{Rng, SeedableRng};

/// Builds `{"Records":[...]}` with varied, realistic records.
pub fn log_json(target_bytes: usize) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut recs = Vec::new();
    let mut size = 0;
    while size < target_bytes {
        let t = format!(
            "2026-03-01T10:{:02}:{:02}Z",
            rng.gen_range(0..60),
            rng.gen_range(0..60)
        );
        let r = trailproof::simulate::records::record(&mut rng, "123456789012", "us-east-1", &t);
        size += r.to_string().len() + 1;
        recs.push(r);
    }
    serde_json::json!({ "Records": recs })
        .to_string()
        .into_bytes()
}
