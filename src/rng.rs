//! The one source of randomness of cartkin: a ChaCha12 stream per subject.
//!
//! `subject_rng(seed, index)` is ChaCha12 (Bernstein D.J., ChaCha, a variant of Salsa20,
//! 2008; 12 rounds, the `rand` crate's standard generator) keyed by
//! `SeedableRng::seed_from_u64(seed)`, on stream number `index` (the subject's 0-based
//! position). Each subject thus has its own reproducible sequence of 2⁶⁴ blocks,
//! independent of which thread handles it, of the thread count and of sharding. Used by
//! the simulation of virtual subjects ([`crate::simulate`]) and by the multi-start
//! points of individual fits ([`crate::estimate`]).

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;

/// The generator type of [`subject_rng`].
pub type SubjectRng = ChaCha12Rng;

/// The random stream of subject `index` (0-based) for `seed`.
pub fn subject_rng(seed: u64, index: u64) -> SubjectRng {
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_differ_between_subjects_and_repeat_for_one() {
        let a: u64 = subject_rng(7, 3).random();
        let b: u64 = subject_rng(7, 3).random();
        let c: u64 = subject_rng(7, 4).random();
        let d: u64 = subject_rng(8, 3).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }
}
