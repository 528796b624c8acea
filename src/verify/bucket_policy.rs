//! The bucket policy against the trail's evidence: a statement that lets
//! anyone but this trail's CloudTrail delete, overwrite or expire the
//! trail's objects, or loosen what protects them (the actions in
//! `HARMFUL`, or a wildcard covering one), is a hole; CloudTrail's own
//! statement must be held to this trail by a positive `aws:SourceArn`
//! condition (else another account's trail could write here). What cannot
//! be judged (NotAction, NotResource) counts as a hole. Deny statements
//! are not credited, and IAM policies are not read. Pure.

use serde_json::Value;

/// Actions that remove, replace or unprotect evidence.
const HARMFUL: [&str; 21] = [
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectRetention",
    "s3:BypassGovernanceRetention",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketVersioning",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutObjectLegalHold",
    "s3:PutObjectVersionAcl",
    "s3:ReplicateObject",
    "s3:ReplicateDelete",
    "s3:PutReplicationConfiguration",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketLogging",
    "s3:PutBucketOwnershipControls",
];

/// The statements that let anyone but this trail's CloudTrail harm the
/// trail's objects, in words; Err when the policy is not JSON.
pub fn holes(
    text: &str,
    (bucket, trail_prefix): (&str, &str),
    trail_arn: &str,
) -> Result<Vec<String>, serde_json::Error> {
    let doc = serde_json::from_str::<Value>(text)?;
    let mut found = Vec::new();
    for (i, st) in as_list(&doc["Statement"]).into_iter().enumerate() {
        // Anything but an explicit Deny grants.
        if st["Effect"].as_str() == Some("Deny") {
            continue;
        }
        let sid = st["Sid"].as_str().map_or(format!("#{i}"), str::to_string);
        if !st["NotAction"].is_null() || !st["NotResource"].is_null() {
            found.push(format!(
                "statement {sid} uses NotAction or NotResource (not judged: counted as a hole)"
            ));
            continue;
        }
        if !covers_trail(st, bucket, trail_prefix) {
            continue;
        }
        let harmful = harmful_actions(st);
        if harmful.is_empty() {
            continue;
        }
        let cloudtrail = is_cloudtrail_only(st);
        match cloudtrail && held_to(&st["Condition"], trail_arn) {
            true => {}
            false if cloudtrail => found.push(format!(
                "statement {sid} lets CloudTrail write without an aws:SourceArn condition naming \
                 this trail ({trail_arn}): another account's trail could write here"
            )),
            false => found.push(format!(
                "statement {sid} lets {} {}",
                principal_words(st),
                harmful.join(", ")
            )),
        }
    }
    Ok(found)
}

fn harmful_actions(st: &Value) -> Vec<&'static str> {
    let actions: Vec<String> = as_list(&st["Action"])
        .iter()
        .filter_map(|a| a.as_str())
        .map(str::to_ascii_lowercase)
        .collect();
    let granted = |h: &&str| actions.iter().any(|a| glob(a, &h.to_ascii_lowercase()));
    HARMFUL.into_iter().filter(granted).collect()
}

fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Whether a statement's resources reach the trail's objects: some key
/// under the trail's prefix matches a resource (or the bucket itself is
/// the resource, for bucket-level actions). Policy variables count as `*`.
fn covers_trail(st: &Value, bucket: &str, trail_prefix: &str) -> bool {
    let resources: Vec<String> = as_list(&st["Resource"])
        .iter()
        .filter_map(|r| r.as_str())
        .map(without_variables)
        .collect();
    // The whole path: a `*` in the bucket part matches `/` too.
    let objects = format!("{bucket}/{trail_prefix}");
    resources.iter().any(|r| {
        let path = r.split_once(":::").map_or(r.as_str(), |(_, p)| p);
        *r == "*" || reaches(path, &objects) || glob(path, bucket)
    })
}

/// `${aws:username}` and the like become `*`: whoever can choose the value
/// can choose the trail's prefix.
fn without_variables(r: &str) -> String {
    let mut out = String::new();
    let mut rest = r;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        out.push('*');
        rest = rest[at..].find('}').map_or("", |end| &rest[at + end + 1..]);
    }
    out.push_str(rest);
    out
}

/// Whether `pattern` (with `*` and `?`) matches some string that starts
/// with `prefix`.
fn reaches(pattern: &str, prefix: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    // The pattern positions alive after each character of the prefix.
    let close = |mut set: Vec<usize>| {
        let mut i = 0;
        while i < set.len() {
            let at = set[i];
            if at < p.len() && p[at] == '*' && !set.contains(&(at + 1)) {
                set.push(at + 1);
            }
            i += 1;
        }
        set
    };
    let mut alive = close(vec![0]);
    for c in prefix.chars() {
        let mut next = Vec::new();
        for &at in &alive {
            if at < p.len() && (p[at] == '*') && !next.contains(&at) {
                next.push(at);
            }
            if at < p.len() && (p[at] == '?' || p[at] == c) && !next.contains(&(at + 1)) {
                next.push(at + 1);
            }
        }
        alive = close(next);
        if alive.is_empty() {
            return false;
        }
    }
    true
}

/// The statement's only principal is CloudTrail's service.
fn is_cloudtrail_only(st: &Value) -> bool {
    let p = &st["Principal"];
    let services = as_list(&p["Service"]);
    st["NotPrincipal"].is_null()
        && p.as_object().is_some_and(|o| o.len() == 1)
        && !services.is_empty()
        && services
            .iter()
            .all(|s| s.as_str() == Some("cloudtrail.amazonaws.com"))
}

/// A positive condition holding `aws:SourceArn` to exactly this trail.
fn held_to(condition: &Value, trail_arn: &str) -> bool {
    let positive = ["stringequals", "arnequals", "stringlike", "arnlike"];
    let Some(ops) = condition.as_object() else {
        return false;
    };
    ops.iter()
        .filter(|(op, _)| positive.contains(&op.to_ascii_lowercase().as_str()))
        .filter_map(|(_, keys)| keys.as_object())
        .flat_map(|keys| keys.iter())
        .filter(|(k, _)| k.eq_ignore_ascii_case("aws:SourceArn"))
        .any(|(_, v)| {
            let values: Vec<&str> = as_list(v).iter().filter_map(|x| x.as_str()).collect();
            !values.is_empty() && values.iter().all(|x| *x == trail_arn)
        })
}

fn principal_words(st: &Value) -> String {
    if !st["NotPrincipal"].is_null() {
        return format!("anyone but {}", st["NotPrincipal"]);
    }
    match &st["Principal"] {
        Value::String(s) if s == "*" => "anyone".to_string(),
        p if p["AWS"] == "*" => "anyone".to_string(),
        other => other.to_string(),
    }
}

/// `pattern` (with `*` and `?`) matches `text` wholly.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRAIL: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/t";

    fn holed(policy: &str) -> Option<usize> {
        holes(policy, ("b", "AWSLogs/"), TRAIL)
            .ok()
            .map(|h| h.len())
    }

    #[test]
    fn only_cloudtrail_held_to_this_trail_may_write() {
        let cloudtrail = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
            "Action":"s3:PutObject","Resource":"arn:aws:s3:::b/AWSLogs/111122223333/*",
            "Condition":{"StringEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111122223333:trail/t"}}}]}"#;
        assert_eq!(holed(cloudtrail), Some(0));
        for bad in ["s3:x-amz-acl", "Null"] {
            let c = cloudtrail.replace("aws:SourceArn", bad);
            assert_eq!(holed(&c), Some(1), "{bad}");
        }
        let negated = cloudtrail.replace("StringEquals", "StringNotEquals");
        assert_eq!(holed(&negated), Some(1));
        let wildcard = cloudtrail.replace("trail/t\"", "trail/*\"");
        assert_eq!(holed(&wildcard), Some(1));
        // Narrower than the prefix still reaches the trail's objects.
        let anyone = r#"{"Statement":{"Sid":"oops","Effect":"Allow","Principal":"*",
            "Action":["s3:Get*","s3:Delete*"],"Resource":["arn:aws:s3:::b/AWSLogs/111122223333/*"]}}"#;
        assert_eq!(holed(anyone), Some(1));
        let elsewhere = anyone.replace("b/AWSLogs/111122223333/*", "b/other/*");
        assert_eq!(holed(&elsewhere), Some(0));
        let variable = anyone.replace("AWSLogs/111122223333/*", "${aws:username}/*");
        assert_eq!(holed(&variable), Some(1));
        let bucket_wildcard = anyone.replace("b/AWSLogs/111122223333/*", "b*/CloudTrail/*");
        assert_eq!(holed(&bucket_wildcard), Some(1));
        let not_action = r#"{"Statement":{"Effect":"Allow","Principal":"*","NotAction":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#;
        assert_eq!(holed(not_action), Some(1));
        assert_eq!(holed("not json"), None);
        assert!(reaches("*", "AWSLogs/") && reaches("AWSLogs/1*", "AWSLogs/"));
        assert!(!reaches("other/*", "AWSLogs/") && reaches("AWS*s/", "AWSLogs/"));
        assert!(glob("s3:*", "s3:deleteobject") && !glob("s3:get*", "s3:deleteobject"));
    }
}
