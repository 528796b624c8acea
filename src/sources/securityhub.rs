//! `--security-hub`: the ASFF findings into Security Hub with
//! BatchImportFindings (REST JSON), in the region of their product ARN,
//! at most 100 a request and 240 KB a finding. Under the account's
//! default product, Security Hub takes only the caller's own account's
//! findings; the others are counted, not sent to be refused one by one.

use crate::sources::aws::{AwsError, AwsErrorKind};
use aws_config::{Region, SdkConfig};
use aws_sdk_securityhub::types as sh;
use serde::Serialize;
use std::collections::BTreeMap;

/// One finding as BatchImportFindings takes it: the file's JSON and the
/// import's request are both made from this, so they cannot differ.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Asff {
    pub schema_version: &'static str,
    pub id: String,
    pub product_arn: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub types: Vec<&'static str>,
    pub created_at: String,
    pub updated_at: String,
    pub severity: AsffSeverity,
    pub title: String,
    pub description: String,
    pub resources: Vec<AsffResource>,
    pub compliance: AsffCompliance,
    pub company_name: &'static str,
    pub product_name: &'static str,
    pub product_fields: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<AsffRemediation>,
    /// Where Security Hub takes it (the product ARN's region); not a field.
    #[serde(skip)]
    pub home_region: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffSeverity {
    pub label: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub id: String,
    pub partition: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffCompliance {
    pub status: &'static str,
    pub related_requirements: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRemediation {
    pub recommendation: AsffRecommendation,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRecommendation {
    pub text: String,
}

/// Findings a request takes.
pub const BATCH: usize = 100;
/// Bytes a finding may have.
pub const FINDING_BYTES: usize = 240 * 1024;
/// Bytes of a request's findings (the API takes 6 MB; headroom for the
/// envelope).
const BATCH_BYTES: usize = 5 * 1024 * 1024;

/// What an import did.
#[derive(Debug, Default)]
pub struct Imported {
    pub accepted: usize,
    /// Findings Security Hub (or the size rule) refused: id, code, message.
    pub refused: Vec<(String, String, String)>,
    /// Other accounts' findings, not sent: account, how many.
    pub not_sent: Vec<(String, usize)>,
    /// The caller's findings past the cap, not sent.
    pub left_out: usize,
    /// A request that failed after the SDK's retries (the first such).
    pub error: Option<AwsError>,
    /// Findings not imported because of failed requests (a refusal of the
    /// caller stops the import; any other failure costs its batch only).
    pub unsent: usize,
}

/// Imports the caller's findings, the first `cap` of them (the rest are
/// counted); `caller` is the account the credentials belong to.
pub async fn import(cfg: &SdkConfig, caller: &str, findings: &[Asff], cap: usize) -> Imported {
    let mut done = Imported::default();
    let mut own: Vec<(&Asff, usize)> = Vec::new();
    for f in findings {
        if f.aws_account_id != caller {
            match done
                .not_sent
                .iter_mut()
                .find(|(a, _)| *a == f.aws_account_id)
            {
                Some((_, n)) => *n += 1,
                None => done.not_sent.push((f.aws_account_id.clone(), 1)),
            }
            continue;
        }
        let size = serde_json::to_vec(f).map_or(usize::MAX, |v| v.len());
        if size > FINDING_BYTES {
            let why = format!("{size} bytes; BatchImportFindings takes {FINDING_BYTES}");
            done.refused.push((f.id.clone(), "TooLarge".into(), why));
            continue;
        }
        own.push((f, size));
    }
    done.left_out = own.len().saturating_sub(cap);
    own.truncate(cap);
    let all = batches(&own);
    // One client a region (a trail's findings have one: its home region).
    let mut client: Option<(&str, aws_sdk_securityhub::Client)> = None;
    for (i, batch) in all.iter().enumerate() {
        let region = batch[0].home_region.as_str();
        if client.as_ref().is_none_or(|(r, _)| *r != region) {
            client = Some((region, client_in(cfg, region)));
        }
        let Some((_, c)) = &client else {
            continue;
        };
        let Err(e) = send(c, batch, &mut done).await else {
            continue;
        };
        done.unsent += batch.len();
        let stop = matches!(e.kind, AwsErrorKind::Denied | AwsErrorKind::Credentials);
        done.error.get_or_insert(e);
        if stop {
            done.unsent += all[i + 1..].iter().map(Vec::len).sum::<usize>();
            break;
        }
    }
    done
}

/// At most [`BATCH`] findings and [`BATCH_BYTES`] a request, one region
/// each.
fn batches<'a>(own: &[(&'a Asff, usize)]) -> Vec<Vec<&'a Asff>> {
    let mut out: Vec<Vec<&Asff>> = Vec::new();
    let mut bytes = 0;
    for &(f, size) in own {
        let fits = out.last().is_some_and(|b| {
            b.len() < BATCH && bytes + size <= BATCH_BYTES && b[0].home_region == f.home_region
        });
        if !fits {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        if let Some(b) = out.last_mut() {
            b.push(f);
        }
    }
    out
}

/// Security Hub in `region`, where the findings' product ARN is.
fn client_in(cfg: &SdkConfig, region: &str) -> aws_sdk_securityhub::Client {
    let conf = aws_sdk_securityhub::config::Builder::from(cfg)
        .region(Region::new(region.to_string()))
        .build();
    aws_sdk_securityhub::Client::from_conf(conf)
}

/// One BatchImportFindings request; what Security Hub took and refused
/// goes into `done`.
async fn send(
    client: &aws_sdk_securityhub::Client,
    batch: &[&Asff],
    done: &mut Imported,
) -> Result<(), AwsError> {
    let findings = batch.iter().map(|f| to_sdk(f)).collect();
    let out = client
        .batch_import_findings()
        .set_findings(Some(findings))
        .send()
        .await
        .map_err(|e| AwsError::of_write(&e, "securityhub:BatchImportFindings"))?;
    let refused = out.failed_findings().iter().map(|f| {
        let text = |s: Option<&str>| s.unwrap_or_default().to_string();
        (text(f.id()), text(f.error_code()), text(f.error_message()))
    });
    done.refused.extend(refused);
    let failed = out
        .failed_findings()
        .len()
        .max(out.failed_count().unwrap_or(0).max(0) as usize);
    let accepted = out
        .success_count()
        .map_or(batch.len().saturating_sub(failed), |n| n.max(0) as usize);
    done.accepted += accepted;
    Ok(())
}

fn resource(r: &AsffResource) -> sh::Resource {
    sh::Resource::builder()
        .r#type(r.kind)
        .id(&r.id)
        .partition(sh::Partition::from(r.partition.as_str()))
        .set_region(r.region.clone())
        .build()
}

/// The SDK's finding, field by field from the one the file holds.
fn to_sdk(f: &Asff) -> sh::AwsSecurityFinding {
    let resources = f.resources.iter().map(resource);
    let compliance = sh::Compliance::builder()
        .status(sh::ComplianceStatus::from(f.compliance.status))
        .set_related_requirements(Some(
            f.compliance
                .related_requirements
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ))
        .build();
    let remediation = f.remediation.as_ref().map(|r| {
        let text = sh::Recommendation::builder()
            .text(&r.recommendation.text)
            .build();
        sh::Remediation::builder().recommendation(text).build()
    });
    let fields = f.product_fields.iter().map(|(k, v)| (k.clone(), v.clone()));
    sh::AwsSecurityFinding::builder()
        .schema_version(f.schema_version)
        .id(&f.id)
        .product_arn(&f.product_arn)
        .generator_id(&f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .set_types(Some(f.types.iter().map(|s| s.to_string()).collect()))
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
        .severity(
            sh::Severity::builder()
                .label(sh::SeverityLabel::from(f.severity.label))
                .build(),
        )
        .title(&f.title)
        .description(&f.description)
        .set_resources(Some(resources.collect()))
        .compliance(compliance)
        .company_name(f.company_name)
        .product_name(f.product_name)
        .set_product_fields(Some(fields.collect()))
        .set_remediation(remediation)
        .build()
}
