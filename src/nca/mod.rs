//! nca (in progress).
