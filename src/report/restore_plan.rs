//! `--restore-plan FILE`: the objects a run found in an archive storage
//! class, as JSON, so an operator can restore them (`aws s3api
//! restore-object`, or S3 Batch Operations over the list) and run again.
//! The log files listed are those archived themselves and those whose only
//! possible digest is archived (their digest must be restored to judge them).

use crate::verify::model::{Problem, Report};
use serde_json::{json, Value};

/// The plan over `chains` (account, region, report), pretty JSON.
pub fn render(chains: &[(&str, &str, &Report)]) -> String {
    let mut objects: Vec<Value> = Vec::new();
    for (account, region, r) in chains {
        // A digest is archived itself; a log file is when a digest lists it
        // (it was read), else it is judged archived for its digest's sake
        // and is readable: restoring its digest is what judges it.
        let digests = r
            .digests
            .iter()
            .map(|d| (&d.bucket, &d.key, &d.finding, "digest", true));
        let logs = r.logs.iter().map(|l| {
            let read = l.digest_key.is_some();
            (&l.bucket, &l.key, &l.finding, "log", read)
        });
        for (bucket, key, finding, kind, restore) in digests.chain(logs) {
            let Some(f) = finding.as_ref().filter(|f| f.problem == Problem::Archived) else {
                continue;
            };
            objects.push(json!({
                "account": account, "region": region, "kind": kind,
                "bucket": bucket, "key": key, "message": f.reason, "restore": restore,
            }));
        }
    }
    let requests = objects.iter().filter(|o| o["restore"] == true).count();
    let doc = json!({
        "restore_requests": requests,
        "note": "Restore each object (aws s3api restore-object --bucket B --key K \
                 --restore-request Days=N), wait for the restore to finish, and run the same \
                 command again. A log file listed because its digest is archived may need \
                 only the digest.",
        "objects": objects,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
