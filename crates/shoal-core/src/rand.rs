//! The core's only source of randomness: a small PRNG seeded from [`crate::Ctx::seed`].
//!
//! Commands that choose at random (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER) draw from
//! an [`Rng`] built from the command's seed, so every replica applying the same command
//! with the same seed makes the same choices. The generator is splitmix64: tiny, fast,
//! and good enough for picking elements; it is not for cryptography.

/// A splitmix64 generator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform number in `0..n` (0 when `n` is 0), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Lemire's multiply-and-reject.
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            let low = m as u64;
            if low >= n.wrapping_neg() % n {
                return (m >> 64) as u64;
            }
        }
    }

    /// A uniform index in `0..n`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// `k` distinct indices of `0..n` (all of them if `k >= n`), in increasing order
    /// (Floyd's algorithm: O(k log k), independent of `n`).
    pub fn distinct_indices(&mut self, n: usize, k: usize) -> Vec<usize> {
        if k >= n {
            return (0..n).collect();
        }
        let mut chosen = std::collections::BTreeSet::new();
        for j in (n - k)..n {
            let t = self.index(j + 1);
            if !chosen.insert(t) {
                chosen.insert(j);
            }
        }
        chosen.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }

    #[test]
    fn below_and_distinct() {
        let mut r = Rng::new(7);
        for n in 1..50u64 {
            assert!(r.below(n) < n);
        }
        assert_eq!(r.below(0), 0);
        let d = r.distinct_indices(100, 10);
        assert_eq!(d.len(), 10);
        assert!(d.windows(2).all(|w| w[0] < w[1]) && d.iter().all(|&i| i < 100));
        assert_eq!(r.distinct_indices(3, 10), vec![0, 1, 2]);
    }
}
