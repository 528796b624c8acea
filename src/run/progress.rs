//! Progress reporting, kept behind a trait so the engine stays silent in
//! tests and scripts and only draws a bar for people at a terminal.

/// Receives progress events from the engine; every method is cheap.
pub trait Progress: Send + Sync {
    fn add_digests(&self, _n: u64) {}
    fn digest_done(&self) {}
    fn add_logs(&self, _n: u64) {}
    fn log_done(&self, _compressed_bytes: u64) {}
    fn finish(&self) {}
}

/// No output at all.
pub(crate) struct Silent;

impl Progress for Silent {}

/// An indicatif bar on stderr: objects done of total, bytes read, rate.
pub struct Bar {
    bar: indicatif::ProgressBar,
    bytes: std::sync::atomic::AtomicU64,
}

impl Bar {
    pub fn new() -> Bar {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(0),
            indicatif::ProgressDrawTarget::stderr(),
        );
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} objects {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        Bar {
            bar,
            bytes: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl Default for Bar {
    fn default() -> Self {
        Bar::new()
    }
}

impl Progress for Bar {
    fn add_digests(&self, n: u64) {
        self.bar.inc_length(n);
    }
    fn digest_done(&self) {
        self.bar.inc(1);
    }
    fn add_logs(&self, n: u64) {
        self.bar.inc_length(n);
    }
    fn log_done(&self, compressed_bytes: u64) {
        use std::sync::atomic::Ordering;
        let total = self.bytes.fetch_add(compressed_bytes, Ordering::Relaxed) + compressed_bytes;
        let secs = self.bar.elapsed().as_secs_f64().max(0.001);
        self.bar.set_message(format!(
            "{:.1} MB read, {:.1} MB/s",
            total as f64 / 1e6,
            total as f64 / 1e6 / secs
        ));
        self.bar.inc(1);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
