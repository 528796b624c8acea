//! Synthetic trails.
