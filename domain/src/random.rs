//! Randomness as the rules see it: an injected source of bytes, the OS generator in production.

use thiserror::Error;

/// The operating system's generator could not give bytes (it should never happen after boot).
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("the operating system's random number generator is unavailable")]
pub struct RandomnessUnavailable;

/// A source of cryptographically secure random bytes.
pub trait Randomness {
    /// Fills `dest` with random bytes.
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomnessUnavailable>;

    /// An array of random bytes.
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], RandomnessUnavailable>
    where
        Self: Sized,
    {
        let mut out = [0u8; N];
        self.fill(&mut out)?;
        Ok(out)
    }
}

/// The operating system's generator (`getrandom`).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandomness;

impl Randomness for OsRandomness {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomnessUnavailable> {
        getrandom::fill(dest).map_err(|_| RandomnessUnavailable)
    }
}

impl<R: Randomness + ?Sized> Randomness for &mut R {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomnessUnavailable> {
        (**self).fill(dest)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A deterministic generator for unit tests of the rules.
    use super::{Randomness, RandomnessUnavailable};

    /// Counts upwards from a seed: deterministic, and never the same bytes twice in a test.
    pub struct CountingRandomness(pub u64);

    impl Randomness for CountingRandomness {
        fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomnessUnavailable> {
            for chunk in dest.chunks_mut(8) {
                self.0 = self
                    .0
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                let bytes = self.0.to_le_bytes();
                chunk.copy_from_slice(&bytes[..chunk.len()]);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_os_generator_gives_different_bytes_each_time() {
        let a: [u8; 32] = OsRandomness.bytes().unwrap();
        let b: [u8; 32] = OsRandomness.bytes().unwrap();
        assert_ne!(a, b);
    }
}
