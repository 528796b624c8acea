//! What the home chain's report gives every other chain of a merge: the
//! trail's configuration and lifecycle calls, recorded once.

use crate::verify::model::{ChainReport, GapKind};

/// A shard without the trail's home chain could not read the trail's
/// configuration calls; the shard that held it reported the ones its
/// verified logs hold: every other chain is marked with them here, as one
/// run marks them (a baseline given to the shards is not applied again).
pub(super) fn share_home_changes(trail: &str, chains: &mut [ChainReport]) {
    let Ok(arn) = crate::verify::arn::TrailArn::parse(trail) else {
        return;
    };
    let is_home = |c: &ChainReport| c.account == arn.account && c.region == arn.region;
    // Unknown (a file of the home chain could not be read, or an older
    // report): the other chains keep saying what they could not read.
    let Some(changes) = chains
        .iter()
        .find(|c| is_home(c))
        .and_then(|c| c.report.coverage_changes.clone())
    else {
        return;
    };
    for c in chains.iter_mut().filter(|c| !is_home(c)) {
        // What could not be read is read now.
        if c.report.home_calls_unread.take().is_some() {
            let allow = c.report.allow_narrowing;
            let expected = c.report.expected_coverage.clone();
            let reference = crate::verify::narrowing::Reference {
                expected: expected.as_ref(),
                now: None,
            };
            crate::verify::narrowing::mark(&mut c.report, &changes, &reference, allow);
            let r = &mut c.report;
            for lines in [&mut r.unproven, &mut r.narrowing_shown] {
                let mut seen = std::collections::HashSet::new();
                lines.retain(|n| seen.insert(n.clone()));
            }
            let mut seen = std::collections::HashSet::new();
            r.notes.retain(|n| seen.insert(n.clone()));
        }
    }
}

/// A stop is recorded once, in the home chain's logs, and stops every
/// chain: the shard that held the home chain reported the lifecycle calls
/// its verified logs hold, and the other shards' gaps are explained with
/// them here, as one run explains them.
pub(super) fn share_home_lifecycle(trail: &str, chains: &mut [ChainReport]) {
    let Ok(arn) = crate::verify::arn::TrailArn::parse(trail) else {
        return;
    };
    let is_home = |c: &ChainReport| c.account == arn.account && c.region == arn.region;
    let Some(home) = chains.iter().find(|c| is_home(c)) else {
        return;
    };
    let Some(calls) = home.report.lifecycle_calls.clone() else {
        return;
    };
    // The home chain's run judged whether the trail stayed stopped to the
    // window's end (with the sources it had): its verdict holds for all.
    let stopped_to_the_end = home
        .report
        .gaps
        .iter()
        .any(|g| g.kind == GapKind::NoLaterDigest && g.explained);
    for c in chains.iter_mut().filter(|c| !is_home(c)) {
        crate::verify::proof::explain_with_home_calls(&mut c.report, &calls, stopped_to_the_end);
    }
}
