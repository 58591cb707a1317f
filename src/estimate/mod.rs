//! estimate (in progress).
