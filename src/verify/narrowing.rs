//! The spans a trail recorded less in, from its coverage changes
//! (`selectors.rs`), compared with what it recorded at the window's start
//! or with the operator's baseline (`--expect-selectors`), and, live, with
//! what it records now: a narrowing whose record the verified logs do not
//! hold is itself a finding. Pure.

use crate::verify::model::{merge_untrusted, Report, Unproven, Untrusted};
use crate::verify::selectors::{CoverageChange, Settings};
use crate::verify::time::{display, Timestamp};

/// A span of the window the trail recorded less in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrowed {
    pub start: Timestamp,
    pub end: Timestamp,
    /// The change that opened it.
    pub by: CoverageChange,
    /// Whether a later change restored coverage (else it lasts to the end).
    pub restored: bool,
    /// What the trail stopped recording, in words.
    pub lost: Vec<String>,
}

/// What the trail's coverage is held against.
#[derive(Debug, Clone, Default)]
pub struct Reference<'a> {
    /// `--expect-selectors`: the compliance baseline. None: what the trail
    /// recorded at the window's start (unknown settings count as full).
    pub expected: Option<&'a Settings>,
    /// Live, when the window reaches the present: what the trail records
    /// now (GetEventSelectors and DescribeTrails).
    pub now: Option<&'a Settings>,
}

impl Reference<'_> {
    /// The trail at the window's start: the settings no recorded change
    /// altered are what it records now.
    fn initial(&self, changes: &[CoverageChange]) -> Settings {
        self.now
            .map(|n| n.untouched_by(changes))
            .unwrap_or_default()
    }
}

/// The spans of `[start, end)` the trail recorded less in than the
/// reference. A span lasts from the change that left any setting short
/// until every one is back, so widening one setting never closes a span
/// another keeps open. Without a baseline the data events to keep grow
/// with what the trail was seen recording.
pub fn spans(
    changes: &[CoverageChange],
    start: Timestamp,
    end: Timestamp,
    reference: &Reference,
) -> Vec<Narrowed> {
    timeline(changes, start, end, reference).0
}

/// The spans, and the trail's settings after the last change (in the
/// order the spans were built in).
fn timeline(
    changes: &[CoverageChange],
    start: Timestamp,
    end: Timestamp,
    reference: &Reference,
) -> (Vec<Narrowed>, Settings) {
    let sorted = ordered(changes);
    // A change event history holds from before the window (and before any
    // this run's verified logs hold) says what the trail recorded at its
    // start; one the logs hold is judged here, whenever it was made (a
    // nightly window's first log holds the last minutes of the night
    // before), and history's copies from then on are replayed with it.
    let t0 = sorted
        .iter()
        .filter(|c| !c.from_history)
        .map(|c| c.time)
        .min()
        .map_or(start, |t| t.min(start));
    let (before, within): (Vec<&CoverageChange>, Vec<&CoverageChange>) = sorted
        .into_iter()
        .partition(|c| c.time < t0 && c.from_history);
    let initial = reference.initial(changes);
    let mut state = before
        .iter()
        .fold(initial.clone(), |s, c| s.then(&c.settings));
    let mut goal = match reference.expected {
        Some(e) => with_flags_of(e, &state),
        None => state.clone(),
    };
    let mut out = Vec::new();
    let mut open: Option<(CoverageChange, Vec<String>)> = None;
    let lost = state.lost_from(&goal);
    if !lost.is_empty() {
        let by = short_since(&initial, &before, &goal)
            .cloned()
            .unwrap_or_else(|| before_window(start, &state));
        open = Some((by, lost));
    }
    // The trail existed before a CreateTrail (a change of it, or its
    // deletion, came first): re-created under its name, it is held to what
    // it recorded before, like an UpdateTrail; only a first creation's
    // settings become the reference.
    let mut existed = !before.is_empty();
    for group in within.chunk_by(|a, b| a.time == b.time) {
        let pre = state.clone();
        // Judged per second: the order of one second's changes is unknown.
        let existed_before = existed || group.iter().any(|c| c.event_name == "DeleteTrail");
        for c in worst_order(&pre, group, &goal) {
            state = state.then(&c.settings);
            let created = c.event_name == "CreateTrail";
            if created && !existed_before {
                // A new trail's settings are its reference from then on.
                goal = match reference.expected {
                    Some(e) => with_flags_of(e, &state),
                    None => state.clone(),
                };
            }
            existed = true;
            let lost = state.lost_from(&goal);
            match (&open, lost.is_empty()) {
                (None, false) => open = Some((c.clone(), lost)),
                (Some((o, l)), true) => {
                    out.push((o.clone(), l.clone(), c.time, true));
                    open = None;
                }
                _ => {}
            }
        }
        // What the trail was seen recording is kept from then on: within
        // one second, only what every order of its changes leaves.
        if open.is_none() && reference.expected.is_none() {
            goal = goal.with_data_of(&common_data(&pre, group));
        }
    }
    if let Some((o, l)) = open {
        out.push((o, l, end, false));
    }
    (clipped(out, start, end), state)
}

/// The spans (opening change, what it lost, until, restored) that reach
/// into `[start, end)`, cut to it.
fn clipped(
    spans: Vec<(CoverageChange, Vec<String>, Timestamp, bool)>,
    start: Timestamp,
    end: Timestamp,
) -> Vec<Narrowed> {
    spans
        .into_iter()
        .filter(|(o, _, until, _)| *until > start && o.time < end)
        .map(|(by, lost, until, restored)| Narrowed {
            start: by.time.max(start),
            end: until.min(end),
            by,
            restored,
            lost,
        })
        .collect()
}

/// The change since which the trail has recorded less than `goal` without
/// a break (the one to name), among the changes before the window.
fn short_since<'a>(
    initial: &Settings,
    before: &[&'a CoverageChange],
    goal: &Settings,
) -> Option<&'a CoverageChange> {
    let mut state = initial.clone();
    let mut since = None;
    for c in before {
        state = state.then(&c.settings);
        match state.lost_from(goal).is_empty() {
            true => since = None,
            false => since = since.or(Some(*c)),
        }
    }
    since
}

/// Changes of one second in the order that leaves the trail recording the
/// least: no record gives their order, and a tie must never hide a
/// narrowing. Every order of a small group is tried.
fn worst_order<'a>(
    pre: &Settings,
    group: &[&'a CoverageChange],
    goal: &Settings,
) -> Vec<&'a CoverageChange> {
    let loss = |order: &[&CoverageChange]| {
        order
            .iter()
            .fold(pre.clone(), |s, c| s.then(&c.settings))
            .lost_from(goal)
            .len()
    };
    if group.len() > 4 {
        let mut order = group.to_vec();
        order.sort_by_key(|c| pre.then(&c.settings).lost_from(goal).len());
        return order;
    }
    let mut best = group.to_vec();
    let mut best_loss = loss(&best);
    let mut order = group.to_vec();
    permute(&mut order, 0, &mut |o| {
        let l = loss(o);
        if l > best_loss {
            (best, best_loss) = (o.to_vec(), l);
        }
    });
    best
}

fn permute<'a>(
    items: &mut [&'a CoverageChange],
    k: usize,
    visit: &mut dyn FnMut(&[&'a CoverageChange]),
) {
    if k == items.len() {
        visit(items);
        return;
    }
    for i in k..items.len() {
        items.swap(k, i);
        permute(items, k + 1, visit);
        items.swap(k, i);
    }
}

/// The data scopes every one of a second's changes would leave, whichever
/// came last.
fn common_data(pre: &Settings, group: &[&CoverageChange]) -> Settings {
    let mut common: Option<std::collections::BTreeSet<_>> = None;
    for c in group {
        if let Some(d) = pre.then(&c.settings).data {
            common = Some(match common {
                None => d,
                Some(k) => k.intersection(&d).cloned().collect(),
            });
        }
    }
    Settings {
        data: common,
        ..Settings::default()
    }
}

/// The changes oldest first, each once (one call is read from the logs and
/// from event history: the log's copy is kept); within a second the order
/// is settled by [`worst_order`].
fn ordered(changes: &[CoverageChange]) -> Vec<&CoverageChange> {
    let mut sorted: Vec<&CoverageChange> = changes.iter().collect();
    sorted.sort_by(|a, b| {
        // A total order: the same changes give the same report every run.
        let key = |c: &CoverageChange| {
            let settings = format!("{:?}", c.settings);
            let who = (c.actor.clone(), c.source_ip.clone());
            (
                c.time,
                c.narrows,
                c.what.clone(),
                c.event_name.clone(),
                settings,
                who,
            )
        };
        (key(a), a.from_history).cmp(&(key(b), b.from_history))
    });
    let mut kept: Vec<&CoverageChange> = Vec::new();
    for c in sorted {
        let same = |k: &&CoverageChange| {
            (k.time, &k.settings, &k.what, &k.actor, &k.event_name)
                == (c.time, &c.settings, &c.what, &c.actor, &c.event_name)
        };
        if !kept.iter().any(same) {
            kept.push(c);
        }
    }
    kept
}

/// The baseline with the trail's own region flags where it says nothing
/// of them (get-event-selectors output never does).
fn with_flags_of(expected: &Settings, trail: &Settings) -> Settings {
    Settings {
        multi_region: expected.multi_region.or(trail.multi_region),
        global_events: expected.global_events.or(trail.global_events),
        ..expected.clone()
    }
}

/// The trail's state at the window's start as a change, for a span the
/// baseline finds open from the start.
fn before_window(start: Timestamp, state: &Settings) -> CoverageChange {
    CoverageChange {
        time: start,
        narrows: true,
        settings: state.clone(),
        what: "what the trail records now, unchanged by any record in the window's verified logs"
            .to_string(),
        event_name: "GetEventSelectors".to_string(),
        actor: None,
        source_ip: None,
        who: None,
        from_history: true,
    }
}

/// Live: what the trail records now that the last recorded change does
/// not, and what it no longer records though no verified log says so.
fn unrecorded(
    changes: &[CoverageChange],
    now: &Settings,
    last_state: &Settings,
) -> (Vec<String>, Vec<String>) {
    // The settings the changes set, valued as the spans resolved them.
    let set = changes
        .iter()
        .fold(Settings::default(), |acc, c| acc.then(&c.settings));
    let last = last_state.known_in(&set);
    let less = now.known_in(&last).lost_from(&last);
    let more = last.known_in(now).lost_from(now);
    (less, more)
}

/// Marks a chain's report: every narrowed span is untrusted and, unless
/// `allow` (`--allow-narrowing`), leaves coverage not proven, saying who,
/// when, from where and what changed; every other change in the window is
/// a note. Returns the spans.
pub(crate) fn mark(
    report: &mut Report,
    changes: &[CoverageChange],
    reference: &Reference,
    allow: bool,
) -> Vec<Narrowed> {
    let (start, end) = (report.requested_start, report.requested_end);
    let (spans, last_state) = timeline(changes, start, end, reference);
    let mut findings: Vec<(Unproven, Timestamp, Timestamp)> = spans
        .iter()
        .map(|n| (n.unproven(), n.start, n.end))
        .collect();
    if let Some(now) = reference.now {
        findings.extend(anchor(report, changes, reference, now, &last_state));
    }
    for c in ordered(changes)
        .into_iter()
        // The trail's creation and deletion are named where the gap is.
        .filter(|c| c.time >= start && c.time < end)
        .filter(|c| !matches!(c.event_name.as_str(), "CreateTrail" | "DeleteTrail"))
    {
        if !spans.iter().any(|n| n.by == *c) {
            report.notes.push(format!(
                "Coverage changed at {}{} ({}: {})",
                display(c.time),
                who(c),
                c.event_name,
                c.what
            ));
        }
    }
    for (line, from, until) in findings {
        record(report, line, allow);
        report.untrusted.push(Untrusted {
            start: from,
            end: until,
            reasons: vec![crate::verify::model::Reason::CoverageNarrowed],
        });
    }
    report.untrusted = merge_untrusted(std::mem::take(&mut report.untrusted));
    spans
}

/// Live: the present settings held against the last recorded change (a
/// finding when they record less: a change the verified logs do not show)
/// and, without a baseline, what the trail has not recorded all along
/// (a note).
fn anchor(
    report: &mut Report,
    changes: &[CoverageChange],
    reference: &Reference,
    now: &Settings,
    last_state: &Settings,
) -> Option<(Unproven, Timestamp, Timestamp)> {
    let (start, end) = (report.requested_start, report.requested_end);
    // A change after the window (in a log listed past its end) is the
    // next window's: the present settings are not held against this one's.
    if changes.iter().any(|c| c.time >= end) {
        return None;
    }
    let (less, more) = unrecorded(changes, now, last_state);
    if !more.is_empty() {
        report.notes.push(format!(
            "The trail records more now than the last change its verified logs show: {}",
            more.join(", ")
        ));
    }
    // A trail of one region records no other region's events by design.
    let before = Settings {
        multi_region: None,
        global_events: None,
        ..reference.initial(changes)
    }
    .lost_from(&Settings::default());
    if reference.expected.is_none() && !before.is_empty() {
        report.notes.push(format!(
            "The trail does not record (GetEventSelectors), since before the window or \
             through a change not yet delivered: {}. Not a finding without a baseline: \
             --expect-selectors FILE holds it to the selectors it should have",
            before.join(", ")
        ));
    }
    let last = changes.iter().map(|c| c.time).max()?;
    (!less.is_empty()).then(|| {
        let lost = Unproven::NarrowedUnrecorded {
            after: last,
            lost: less,
        };
        (lost, last.max(start), end)
    })
}

/// The trail recorded less: coverage not proven, or with `allow`
/// (`--allow-narrowing`) shown without failing.
pub fn record(report: &mut Report, narrowed: Unproven, allow: bool) {
    match allow {
        true => report.narrowing_shown.push(narrowed),
        false => report.unproven.push(narrowed),
    }
}

fn who(c: &CoverageChange) -> String {
    let mut who = String::new();
    if let Some(a) = &c.actor {
        who.push_str(&format!(" by {a}"));
    }
    if let Some(ip) = &c.source_ip {
        who.push_str(&format!(" from {ip}"));
    }
    who
}

impl Narrowed {
    /// What the report says of this span.
    fn unproven(&self) -> Unproven {
        Unproven::CoverageNarrowed {
            at: self.by.time,
            actor: self.by.actor.clone(),
            source_ip: self.by.source_ip.clone(),
            event_name: self.by.event_name.clone(),
            what: self.by.what.clone(),
            lost: self.lost.clone(),
            until: self.end,
            restored: self.restored,
            who: self.by.who.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::time::parse_user_time;

    fn find(changes: &[CoverageChange], start: Timestamp, end: Timestamp) -> Vec<Narrowed> {
        super::spans(changes, start, end, &Reference::default())
    }

    #[test]
    fn a_narrowing_lasts_until_coverage_is_restored() {
        let t = |h: u32| parse_user_time(&format!("2026-03-01T{h:02}:00:00Z")).unwrap();
        let change = |h, settings: Settings| CoverageChange {
            time: t(h),
            narrows: settings.narrows(),
            what: format!("{settings:?}"),
            settings,
            event_name: "PutEventSelectors".into(),
            actor: None,
            source_ip: None,
            who: None,
            from_history: false,
        };
        let mgmt = |reads, writes| Settings {
            management_reads: Some(reads),
            management_writes: Some(writes),
            excluded_sources: Some(Default::default()),
            ..Settings::default()
        };
        let region = |on| Settings {
            multi_region: Some(on),
            ..Settings::default()
        };
        let spans = find(
            &[
                change(5, mgmt(true, true)),
                change(2, mgmt(true, false)),
                change(3, mgmt(false, true)),
            ],
            t(0),
            t(10),
        );
        assert_eq!(spans.len(), 1);
        assert_eq!(
            (spans[0].start, spans[0].end, spans[0].restored),
            (t(2), t(5), true)
        );
        let open = find(&[change(8, mgmt(true, false))], t(0), t(10));
        assert_eq!(
            (open[0].start, open[0].end, open[0].restored),
            (t(8), t(10), false)
        );
        // Widening another setting does not close the span.
        let spoof = find(
            &[change(2, mgmt(true, false)), change(3, region(true))],
            t(0),
            t(10),
        );
        assert_eq!((spoof[0].end, spoof[0].restored), (t(10), false));
        // Restoring the selectors while multi-region is off leaves it open.
        let two = [
            change(2, mgmt(true, false)),
            change(3, region(false)),
            change(4, mgmt(true, true)),
        ];
        let spans = find(&two, t(0), t(10));
        assert_eq!(
            (spans[0].start, spans[0].end, spans[0].restored),
            (t(2), t(10), false)
        );
        // Outside the window, or restored before it: nothing.
        let before = [change(1, mgmt(true, false)), change(2, mgmt(true, true))];
        assert!(find(&before, t(3), t(10)).is_empty());
        assert!(find(&[change(11, mgmt(false, false))], t(3), t(10)).is_empty());
    }

    fn ct(h: u32, params: serde_json::Value) -> CoverageChange {
        let rec = serde_json::json!({"eventSource": "cloudtrail.amazonaws.com",
            "eventName": "PutEventSelectors",
            "eventTime": format!("2026-03-01T{h:02}:00:00Z"), "recipientAccountId": "123456789012",
            "awsRegion": "us-east-1", "requestParameters": params,
            "userIdentity": {"arn": "arn:aws:sts::123456789012:assumed-role/intruder/x"},
            "sourceIPAddress": "198.51.100.7"});
        let trail = crate::verify::arn::TrailArn::parse(
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
        )
        .unwrap();
        crate::verify::selectors::from_record(&rec, &trail).unwrap()
    }

    fn with_data(buckets: &[&str]) -> serde_json::Value {
        serde_json::json!({"trailName": "main", "eventSelectors": [{"readWriteType": "All",
            "includeManagementEvents": true,
            "dataResources": [{"type": "AWS::S3::Object", "values": buckets}]}]})
    }

    fn t(h: u32) -> Timestamp {
        parse_user_time(&format!("2026-03-01T{h:02}:00:00Z")).unwrap()
    }

    #[test]
    fn dropping_a_buckets_data_events_is_a_narrowing() {
        let changes = [
            ct(1, with_data(&["arn:aws:s3:::vault/", "arn:aws:s3:::logs/"])),
            ct(2, with_data(&["arn:aws:s3:::logs/"])),
            ct(4, with_data(&["arn:aws:s3:::logs/", "arn:aws:s3:::vault/"])),
        ];
        let spans = find(&changes, t(0), t(10));
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!((spans[0].start, spans[0].end), (t(2), t(4)));
        assert!(
            spans[0]
                .lost
                .iter()
                .any(|l| l.contains("arn:aws:s3:::vault/")),
            "{spans:?}"
        );
        // Every bucket covers each one: widening is no narrowing.
        let wider = [
            ct(1, with_data(&["arn:aws:s3:::vault/"])),
            ct(2, with_data(&["arn:aws:s3"])),
        ];
        assert!(find(&wider, t(0), t(10)).is_empty());
        // Advanced selectors read the same way.
        let adv = serde_json::json!({"trailName": "main", "advancedEventSelectors": [
            {"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]},
            {"fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]},
                                {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                                {"field": "resources.ARN", "startsWith": ["arn:aws:s3:::vault/"]}]}]});
        let mgmt_only = serde_json::json!({"trailName": "main", "advancedEventSelectors": [
            {"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]}]});
        let spans = find(&[ct(1, adv), ct(3, mgmt_only)], t(0), t(10));
        assert_eq!((spans.len(), spans[0].start), (1, t(3)), "{spans:?}");
    }

    #[test]
    fn a_baseline_and_the_present_settings_are_held_against() {
        let write_only = crate::verify::selectors::from_get_event_selectors(&serde_json::json!({
            "TrailARN": "x", "EventSelectors": [{"ReadWriteType": "WriteOnly",
            "IncludeManagementEvents": true, "DataResources": []}]}))
        .unwrap();
        let all = crate::verify::selectors::from_get_event_selectors(&serde_json::json!({
            "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]}))
        .unwrap();
        let reads_off = serde_json::json!({"trailName": "main", "eventSelectors": [
            {"readWriteType": "WriteOnly", "includeManagementEvents": true}]});
        // Re-applying the selectors a write-only trail should have: no narrowing.
        let expected = Reference {
            expected: Some(&write_only),
            now: None,
        };
        assert!(spans(&[ct(2, reads_off.clone())], t(0), t(10), &expected).is_empty());
        // Without the baseline the same call records less than everything.
        assert_eq!(find(&[ct(2, reads_off)], t(0), t(10)).len(), 1);
        // No change in the window, but the trail records less now than the
        // baseline: narrowed from the window's start.
        let now = Reference {
            expected: Some(&all),
            now: Some(&write_only),
        };
        let spans = spans(&[], t(0), t(10), &now);
        assert_eq!(
            (spans[0].start, spans[0].end, spans[0].restored),
            (t(0), t(10), false)
        );
        // Without a baseline that is what the trail recorded at the start.
        let now_only = Reference {
            expected: None,
            now: Some(&write_only),
        };
        assert!(super::spans(&[], t(0), t(10), &now_only).is_empty());
    }

    #[test]
    fn a_current_setting_the_logs_do_not_explain_is_a_finding() {
        let write_only = crate::verify::selectors::from_get_event_selectors(&serde_json::json!({
            "EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true}]}))
        .unwrap();
        let all =
            serde_json::json!({"trailName": "main", "eventSelectors": [{"readWriteType": "All"}]});
        let mut report = Report::empty(
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
            t(0),
            t(10),
        );
        let now = Reference {
            expected: None,
            now: Some(&write_only),
        };
        mark(&mut report, &[ct(3, all.clone())], &now, false);
        assert_eq!(report.unproven.len(), 1, "{:?}", report.unproven);
        let Unproven::NarrowedUnrecorded { after, lost } = &report.unproven[0] else {
            panic!("{:?}", report.unproven);
        };
        assert_eq!(*after, t(3));
        assert!(
            lost.iter().any(|l| l.contains("management read events")),
            "{lost:?}"
        );
        // The widening itself is shown as a note.
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.starts_with("Coverage changed at")),
            "{:?}",
            report.notes
        );
        // Agreeing settings: nothing.
        let all_now = crate::verify::selectors::from_get_event_selectors(&serde_json::json!({
            "EventSelectors": [{"ReadWriteType": "All"}]}))
        .unwrap();
        let mut ok = Report::empty(
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
            t(0),
            t(10),
        );
        let agree = Reference {
            expected: None,
            now: Some(&all_now),
        };
        mark(&mut ok, &[ct(3, all)], &agree, false);
        assert!(ok.unproven.is_empty(), "{:?}", ok.unproven);
    }

    fn adv_data(extra: serde_json::Value) -> serde_json::Value {
        let mut fields = vec![
            serde_json::json!({"field": "eventCategory", "equals": ["Data"]}),
            serde_json::json!({"field": "resources.type", "equals": ["AWS::S3::Object"]}),
        ];
        if !extra.is_null() {
            fields.push(extra);
        }
        serde_json::json!({"trailName": "main", "advancedEventSelectors": [
            {"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]},
            {"fieldSelectors": fields}]})
    }

    #[test]
    fn filtered_data_selectors_and_every_resource() {
        // Every object, then every object but the intruder's own calls.
        let spans = find(
            &[
                ct(1, adv_data(serde_json::Value::Null)),
                ct(
                    2,
                    adv_data(serde_json::json!({"field": "userIdentity.arn",
                    "notStartsWith": ["arn:aws:sts::123456789012:assumed-role/intruder"]})),
                ),
            ],
            t(0),
            t(10),
        );
        assert_eq!((spans.len(), spans[0].start), (1, t(2)), "{spans:?}");
        // One exact object is less than the bucket's prefix.
        let spans = find(
            &[
                ct(
                    1,
                    adv_data(
                        serde_json::json!({"field": "resources.ARN", "startsWith": ["arn:aws:s3:::vault/"]}),
                    ),
                ),
                ct(
                    2,
                    adv_data(
                        serde_json::json!({"field": "resources.ARN", "equals": ["arn:aws:s3:::vault/"]}),
                    ),
                ),
            ],
            t(0),
            t(10),
        );
        assert_eq!(spans.len(), 1, "{spans:?}");
        // Basic `arn:aws:s3` and advanced without an ARN are the same scope;
        // an API answer's empty operators are no conditions.
        let empty_ops = serde_json::json!({"field": "resources.ARN", "equals": [], "startsWith": [],
            "notEquals": [], "notStartsWith": [], "endsWith": [], "notEndsWith": []});
        let same = [
            ct(1, with_data(&["arn:aws:s3"])),
            ct(2, adv_data(empty_ops)),
        ];
        assert!(
            find(&same, t(0), t(10)).is_empty(),
            "{:?}",
            find(&same, t(0), t(10))
        );
    }

    #[test]
    fn the_seam_of_a_nightly_window_and_ties() {
        let reads_only = serde_json::json!({"trailName": "main", "eventSelectors": [
            {"readWriteType": "ReadOnly", "includeManagementEvents": true}]});
        // A narrowing minutes before the window, in a log this run verifies:
        // judged here (the night before could not see it).
        let spans = find(&[ct(1, reads_only.clone())], t(2), t(10));
        assert_eq!((spans.len(), spans[0].start), (1, t(2)));
        // The same call known only from event history says what the trail
        // recorded at the start.
        let mut earlier = ct(1, reads_only);
        earlier.from_history = true;
        assert!(find(&[earlier], t(2), t(10)).is_empty());
        // Two changes in one second: the narrowing one is taken as last.
        let both = [
            ct(1, with_data(&["arn:aws:s3:::vault/", "arn:aws:s3:::logs/"])),
            ct(3, with_data(&["arn:aws:s3:::vault/", "arn:aws:s3:::logs/"])),
            ct(3, with_data(&["arn:aws:s3:::logs/"])),
        ];
        let spans = find(&both, t(0), t(10));
        assert_eq!((spans.len(), spans[0].restored), (1, false), "{spans:?}");
    }

    #[test]
    fn a_baseline_keeps_the_trails_own_region_flags() {
        let baseline = crate::verify::selectors::from_get_event_selectors(&serde_json::json!({
            "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]}))
        .unwrap();
        let mut now = baseline.clone();
        now.multi_region = Some(false);
        now.global_events = Some(false);
        let r = Reference {
            expected: Some(&baseline),
            now: Some(&now),
        };
        assert!(spans(&[], t(0), t(10), &r).is_empty());
        for bad in [
            serde_json::json!({"EventSelectors": []}),
            serde_json::json!({"EventSelectors": [{"ReadWriteType": "Readonly"}]}),
            serde_json::json!([1]),
        ] {
            assert!(
                crate::verify::selectors::from_get_event_selectors(&bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn one_more_excluded_source_is_a_narrowing() {
        let excluding = |sources: &[&str]| {
            serde_json::json!({"trailName": "main", "eventSelectors": [{"readWriteType": "All",
                "includeManagementEvents": true, "excludeManagementEventSources": sources}]})
        };
        let baseline = crate::verify::selectors::from_get_event_selectors(&serde_json::json!({
            "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true,
                "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]}))
        .unwrap();
        let r = Reference {
            expected: Some(&baseline),
            now: None,
        };
        let same = [ct(2, excluding(&["kms.amazonaws.com"]))];
        assert!(spans(&same, t(0), t(10), &r).is_empty());
        let more = [ct(
            2,
            excluding(&["kms.amazonaws.com", "rdsdata.amazonaws.com"]),
        )];
        let found = spans(&more, t(0), t(10), &r);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].lost,
            ["management events of rdsdata.amazonaws.com"]
        );
    }

    #[test]
    fn second_review_cases() {
        // A prefix that is no service's root is itself, not every object.
        let odd = [
            ct(1, with_data(&["arn:aws:s3"])),
            ct(2, with_data(&["arn:aws:s3x"])),
        ];
        assert_eq!(find(&odd, t(0), t(10)).len(), 1);
        // A narrowing in this run's logs minutes before the window, restored
        // by a call event history holds: replayed in time order, restored.
        let reads_only = serde_json::json!({"trailName": "main", "eventSelectors": [
            {"readWriteType": "ReadOnly", "includeManagementEvents": true}]});
        let all =
            serde_json::json!({"trailName": "main", "eventSelectors": [{"readWriteType": "All"}]});
        let mut restore = ct(2, all);
        restore.from_history = true;
        let spans = find(&[ct(1, reads_only), restore], t(3), t(10));
        assert!(spans.is_empty(), "{spans:?}");
        // A trail re-created under its name starts from a new trail's settings.
        let rec = serde_json::json!({"eventSource": "cloudtrail.amazonaws.com",
            "eventName": "CreateTrail", "eventTime": "2026-03-01T04:00:00Z",
            "recipientAccountId": "123456789012", "awsRegion": "us-east-1",
            "requestParameters": {"name": "main", "s3BucketName": "b"}});
        let trail = crate::verify::arn::TrailArn::parse(
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
        )
        .unwrap();
        let created = crate::verify::selectors::from_record(&rec, &trail).unwrap();
        assert_eq!(created.settings.multi_region, Some(false));
        assert!(find(std::slice::from_ref(&created), t(0), t(10)).is_empty());
    }

    /// DeleteTrail, then CreateTrail under the same name with CloudTrail's
    /// defaults (single-region, no data events): the re-created trail is
    /// held to what the deleted one recorded, with or without a baseline.
    #[test]
    fn a_trail_re_created_with_less_coverage_is_a_narrowing() {
        let trail = crate::verify::arn::TrailArn::parse(
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
        )
        .unwrap();
        let call = |name: &str, h: u32, params: serde_json::Value| {
            let rec = serde_json::json!({"eventSource": "cloudtrail.amazonaws.com",
                "eventName": name, "eventTime": format!("2026-03-01T{h:02}:00:00Z"),
                "recipientAccountId": "123456789012", "awsRegion": "us-east-1",
                "requestParameters": params});
            crate::verify::selectors::from_record(&rec, &trail).unwrap()
        };
        let wide = serde_json::json!({"name": "main", "s3BucketName": "b",
            "isMultiRegionTrail": true, "includeGlobalServiceEvents": true});
        let changes = [
            call("CreateTrail", 0, wide),
            ct(1, with_data(&["arn:aws:s3:::vault/"])),
            call("DeleteTrail", 3, serde_json::json!({"name": "main"})),
            call(
                "CreateTrail",
                4,
                serde_json::json!({"name": "main", "s3BucketName": "b"}),
            ),
        ];
        let spans = find(&changes, t(0), t(10));
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!(spans[0].start, t(4), "{spans:?}");
        assert_eq!(spans[0].by.event_name, "CreateTrail");
        let lost = spans[0].lost.join("; ");
        assert!(lost.contains("arn:aws:s3:::vault/"), "{lost}");
        assert!(
            lost.contains("multi-region") || lost.contains("region"),
            "{lost}"
        );
        // A baseline that asks for every region holds the new trail to it.
        let all = crate::verify::selectors::from_get_event_selectors(&serde_json::json!({
            "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]}))
        .unwrap();
        let mut baseline = all.clone();
        baseline.multi_region = Some(true);
        let expected = Reference {
            expected: Some(&baseline),
            now: None,
        };
        let held = super::spans(&changes[2..], t(0), t(10), &expected);
        assert_eq!(held.len(), 1, "{held:?}");
        assert_eq!(held[0].start, t(4), "{held:?}");
    }
}
