//! The edges: where objects, keys and CloudTrail's own records come from.

pub mod account;
pub mod aws;
pub mod cloudtrail;
pub mod evidence;
pub mod keys;
pub mod kms;
pub mod lookup;
pub mod notify;
pub mod organizations;
pub mod output;
pub mod protections;
pub mod securityhub;
pub mod signing;
pub mod store;
pub mod transcript;
pub mod tsa;
