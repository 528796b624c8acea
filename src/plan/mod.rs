//! What a run will validate: chains, slices, shards, checkpoint seams.

pub mod chains;
pub mod checkpoint;
pub mod discover;
pub mod shard;
