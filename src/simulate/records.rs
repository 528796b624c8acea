//! Realistic CloudTrail event records, so simulated logs compress and hash
//! like real ones.

use crate::verify::time::{display, Timestamp};
use rand::Rng;
use serde_json::{json, Value};

const SOURCES: [(&str, &[&str]); 5] = [
    (
        "ec2.amazonaws.com",
        &[
            "DescribeInstances",
            "RunInstances",
            "DescribeVolumes",
            "CreateTags",
        ],
    ),
    (
        "s3.amazonaws.com",
        &[
            "GetBucketAcl",
            "ListBuckets",
            "PutBucketTagging",
            "GetBucketLocation",
        ],
    ),
    (
        "iam.amazonaws.com",
        &[
            "GetRole",
            "ListRoles",
            "CreateAccessKey",
            "AttachRolePolicy",
        ],
    ),
    ("sts.amazonaws.com", &["AssumeRole", "GetCallerIdentity"]),
    (
        "kms.amazonaws.com",
        &["Decrypt", "GenerateDataKey", "DescribeKey"],
    ),
];

const AGENTS: [&str; 4] = [
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.debian.12 prompt/off command/ec2.describe-instances",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.8",
    "console.amazonaws.com",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/sts#1.28.5",
];

fn hex_id(rng: &mut impl Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

fn uuid(rng: &mut impl Rng) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        hex_id(rng, 8),
        hex_id(rng, 4),
        hex_id(rng, 4),
        hex_id(rng, 4),
        hex_id(rng, 12)
    )
}

/// One management event at `event_time` (display form) in `region`.
pub fn record(rng: &mut impl Rng, account: &str, region: &str, event_time: &str) -> Value {
    let (source, names) = SOURCES[rng.gen_range(0..SOURCES.len())];
    let name = names[rng.gen_range(0..names.len())];
    let user = format!("user-{}", rng.gen_range(1..40));
    let read_only =
        name.starts_with("Describe") || name.starts_with("Get") || name.starts_with("List");
    json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": format!("AIDA{}", hex_id(rng, 16).to_uppercase()),
            "arn": format!("arn:aws:iam::{account}:user/{user}"),
            "accountId": account,
            "accessKeyId": format!("AKIA{}", hex_id(rng, 16).to_uppercase()),
            "userName": user,
        },
        "eventTime": event_time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": format!("203.0.113.{}", rng.gen_range(1..255)),
        "userAgent": AGENTS[rng.gen_range(0..AGENTS.len())],
        "requestParameters": {
            "maxResults": rng.gen_range(5..1000),
            "filterSet": {"items": [{"name": "tag:team", "valueSet": {"items": [{"value": format!("team-{}", rng.gen_range(1..9))}]}}]},
        },
        "responseElements": if read_only { Value::Null } else { json!({"requestId": uuid(rng), "return": true}) },
        "requestID": uuid(rng),
        "eventID": uuid(rng),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": format!("{}.{region}.amazonaws.com", source.split('.').next().unwrap_or("ec2")),
        },
    })
}

/// Write calls an intruder makes, with their services.
const WRITES: [(&str, &str); 4] = [
    ("iam.amazonaws.com", "CreateAccessKey"),
    ("iam.amazonaws.com", "AttachRolePolicy"),
    ("s3.amazonaws.com", "PutBucketPolicy"),
    ("ec2.amazonaws.com", "RunInstances"),
];

/// One write management event at `at`.
pub(crate) fn write_record(
    rng: &mut impl Rng,
    account: &str,
    region: &str,
    at: Timestamp,
) -> Value {
    let mut r = record(rng, account, region, &display(at));
    let (source, name) = WRITES[rng.gen_range(0..WRITES.len())];
    r["eventSource"] = Value::from(source);
    r["eventName"] = Value::from(name);
    r["readOnly"] = Value::from(false);
    r["responseElements"] = json!({"requestId": uuid(rng), "return": true});
    r
}
