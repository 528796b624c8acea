//! Where a run's verdict is announced beyond its own files: an alert to
//! SNS or EventBridge, and the findings into Security Hub. None of them
//! can change the exit status: the verdict is decided before they run.

pub use crate::sources::notify::NotifyTarget;

/// `--notify`, `--notify-always` and `--security-hub`, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deliveries {
    pub notify: Vec<NotifyTarget>,
    /// Also announce a run that exits 0 (a heartbeat for the channel).
    pub notify_always: bool,
    /// Import the ASFF findings with BatchImportFindings.
    pub security_hub: bool,
}

impl Deliveries {
    /// Whether a delivery needs this chain's report at the end: the
    /// import needs every chain's findings, the alert only the chains that
    /// did not pass (unless it is sent after exit 0 too), so a streamed
    /// estate's memory stays flat on a quiet night.
    pub fn keeps(&self, passed: bool) -> bool {
        let alert = !self.notify.is_empty() && (self.notify_always || !passed);
        self.security_hub || alert
    }
}
