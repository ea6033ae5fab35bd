//! The seeding progress bar: redrawn in place on a terminal, a single line otherwise.

use std::io::{IsTerminal, Write};
use std::time::Instant;

const WIDTH: usize = 30;

pub struct Progress {
    label: &'static str,
    total: u64,
    started: Instant,
    terminal: bool,
}

impl Progress {
    pub fn new(label: &'static str, total: u64) -> Progress {
        Progress {
            label,
            total,
            started: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Redraws the bar at `done` items (on a terminal only).
    pub fn update(&self, done: u64) {
        if self.terminal {
            let filled = (done.min(self.total) * WIDTH as u64 / self.total.max(1)) as usize;
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r{} [{}{}] {done}/{} keys",
                self.label,
                "#".repeat(filled),
                "-".repeat(WIDTH - filled),
                self.total
            );
            let _ = err.flush();
        }
    }

    /// Ends the bar with the count and the time taken.
    pub fn finish(&self, done: u64) {
        self.update(done);
        let clear = if self.terminal { "\r\x1b[2K" } else { "" };
        eprintln!(
            "{clear}{}: {done} keys in {:.1} s",
            self.label,
            self.started.elapsed().as_secs_f64()
        );
    }
}
