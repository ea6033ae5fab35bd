//! Which keys a task owns under `--verify`: task `t` of `n` owns the ids ≡ t (mod n), and a
//! drawn id is replaced by the task's own id nearest to it, so a skewed distribution (zipf,
//! hot keys) stays skewed: each task gets the neighbours of the hot ids.

/// The ids one task (or thread) of a run owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    pub task: u64,
    pub tasks: u64,
}

impl Share {
    /// The owner of `id` among `tasks`.
    pub fn of(id: u64, tasks: u64) -> Share {
        Share {
            task: id % tasks,
            tasks,
        }
    }

    /// Where `id` sits among its owner's ids.
    pub fn slot(self, id: u64) -> usize {
        (id / self.tasks) as usize
    }

    /// How many of `0..keys` it owns (`keys` ≥ `tasks`, so every task owns one at least).
    pub fn len(self, keys: u64) -> usize {
        keys.saturating_sub(self.task).div_ceil(self.tasks) as usize
    }

    /// Its id nearest to `id` in `0..keys` (the lower one on a tie).
    pub fn nearest(self, id: u64, keys: u64) -> u64 {
        if id <= self.task {
            return self.task;
        }
        let below = id - (id - self.task) % self.tasks;
        let above = below + self.tasks;
        match above < keys && above - id < id - below {
            true => above,
            false => below,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::dist::KeyDraw;
    use crate::workload::keys::generator;

    #[test]
    fn every_id_maps_to_the_nearest_one_the_task_owns() {
        let keys = 103;
        for tasks in [1, 2, 7, 103] {
            for task in 0..tasks {
                let share = Share { task, tasks };
                let owned: Vec<u64> = (0..keys).filter(|id| id % tasks == task).collect();
                assert_eq!(share.len(keys), owned.len(), "{share:?}");
                for (slot, &id) in owned.iter().enumerate() {
                    assert_eq!((Share::of(id, tasks), share.slot(id)), (share, slot));
                }
                for id in 0..keys {
                    let nearest = share.nearest(id, keys);
                    let best = owned.iter().map(|&o| o.abs_diff(id)).min().unwrap();
                    assert!(owned.contains(&nearest), "{share:?} {id} -> {nearest}");
                    assert_eq!(nearest.abs_diff(id), best, "{share:?} {id} -> {nearest}");
                }
            }
        }
    }

    #[test]
    fn a_skewed_draw_stays_skewed() {
        let (keys, tasks) = (10_000, 8);
        let draw = KeyDraw::new("zipf".parse().unwrap(), keys);
        let mut rng = generator(0);
        let share = Share { task: 3, tasks };
        let mut counts = vec![0u32; keys as usize];
        for _ in 0..100_000 {
            counts[share.nearest(draw.next(&mut rng), keys) as usize] += 1;
        }
        let mut sorted = counts.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let top_tenth: u32 = sorted[..share.len(keys) / 10].iter().sum();
        assert!(
            top_tenth > 50_000,
            "a tenth of its keys get most draws: {top_tenth}"
        );
    }
}
