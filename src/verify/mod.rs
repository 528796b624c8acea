//! The pure core: everything that decides whether bytes are what CloudTrail
//! delivered. No I/O here; callers hand in bytes, keys and listings.

pub mod actor;
pub mod arn;
pub mod bucket_calls;
pub mod bucket_policy;
pub mod chain;
pub mod cms_signature;
pub mod coverage;
pub mod digest;
pub mod digest_check;
pub mod gzip;
pub mod inventory;
pub mod layout;
pub mod lifecycle;
pub mod model;
pub mod narrowing;
pub mod proof;
pub mod protections;
pub mod pubkeys;
pub mod record_watch;
pub mod recovery;
pub mod selectors;
pub mod shard;
pub mod signature;
pub mod state_key;
pub mod time;
pub mod timestamp;
pub mod unproven;
