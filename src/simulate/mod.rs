//! simulate (in progress).
