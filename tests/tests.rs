//! The integration tests, one binary (as ripgrep's and cargo's test suites
//! are): the AWS SDK is linked once, not once per file. Each file is a
//! module of one concern; `support` holds the test servers on 127.0.0.1.

mod support;

mod acquire_s3;
mod alerts_local;
mod compliance_local;
mod estate_local;
mod estate_s3;
mod faults_s3;
mod hostile_s3;
mod hostile_verified;
mod html_report;
mod layers;
mod proof_local;
mod proof_s3;
mod properties;
mod recover_s3;
mod report_schema;
mod scheduled_local;
mod scheduled_s3;
mod secrets_s3;
mod shard_local;
mod signing_local;
mod soundness_matrix;
mod timestamp_local;
mod validate_local;
mod validate_s3;
