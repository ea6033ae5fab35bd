//! Key ids: drawn with xoshiro256++ (one generator per task, so drawing never contends) from
//! the run's distribution (see [`super::dist`]), or taken in key-space order from a shared
//! counter (insert and seeding).

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// One task's generator: seeded by the task index, so a run's key sequence is reproducible
/// and no two tasks draw the same stream.
pub fn generator(task: usize) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(task as u64)
}

/// The next unused position in the key space, shared by the tasks of one run.
#[derive(Debug, Default)]
pub struct Sequence(AtomicU64);

impl Sequence {
    /// The next `n` ids in order, wrapping around `0..keys` (insert runs for a duration).
    pub fn take_wrapping(&self, keys: u64, n: usize, ids: &mut Vec<u64>) {
        let first = self.0.fetch_add(n as u64, Ordering::Relaxed);
        ids.extend((first..first + n as u64).map(|i| i % keys));
    }

    /// The next at most `n` ids of `0..keys`, or `None` once the key space is used up
    /// (seeding writes every key once).
    pub fn take(&self, keys: u64, n: usize) -> Option<Range<u64>> {
        let first = self.0.fetch_add(n as u64, Ordering::Relaxed);
        (first < keys).then(|| first..keys.min(first + n as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn generators_are_reproducible_and_differ_between_tasks() {
        let draws = |task| {
            let mut rng = generator(task);
            (0..1000)
                .map(|_| rng.random_range(0..10))
                .collect::<Vec<u64>>()
        };
        assert_eq!(draws(0), draws(0), "reproducible");
        assert_ne!(draws(0), draws(1));
    }

    #[test]
    fn sequence_covers_the_key_space_once_then_wraps() {
        let seq = Sequence::default();
        let ranges: Vec<_> = std::iter::from_fn(|| seq.take(10, 4)).collect();
        assert_eq!(ranges, [0..4, 4..8, 8..10]);
        let seq = Sequence::default();
        let mut ids = Vec::new();
        seq.take_wrapping(5, 3, &mut ids);
        seq.take_wrapping(5, 3, &mut ids);
        assert_eq!(ids, [0, 1, 2, 3, 4, 0]);
    }
}
