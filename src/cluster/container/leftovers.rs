//! What is still running, removed at process exit if nobody dropped it (the benchmark
//! harness keeps its target in a static, which is never dropped), and on SIGINT, SIGTERM
//! or SIGQUIT before the process ends as the signal would have ended it.
//!
//! The signal path is ours rather than testcontainers' watchdog: the watchdog stops each
//! container (a paused one only after the stop timeout), panics on a failure and leaves
//! networks; here every container goes at once with `rm -f`, paused or not, then the
//! networks.

use std::sync::{Mutex, Once};

use signal_hook::consts::{SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;
use signal_hook::low_level::emulate_default_handler;

use super::engine::{remove_container, remove_network};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Container(String),
    Network(String),
}

static LIVE: Mutex<Vec<Resource>> = Mutex::new(Vec::new());

pub fn register(resource: Resource) {
    static AT_EXIT: Once = Once::new();
    AT_EXIT.call_once(|| {
        // SAFETY: registers a plain extern "C" function with no arguments.
        unsafe {
            libc::atexit(remove_live_at_exit);
        }
        remove_live_on_signal();
    });
    LIVE.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(resource);
}

pub fn unregister(resource: &Resource) {
    LIVE.lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|r| r != resource);
}

extern "C" fn remove_live_at_exit() {
    let _ = std::panic::catch_unwind(remove_live);
}

/// A thread that waits for the first terminating signal, removes what is live, then lets
/// the signal end the process. Without the thread (signals cannot be watched) the
/// `atexit` hook and the next start's clean-up remain.
fn remove_live_on_signal() {
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGQUIT]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("aerobench-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                eprintln!("aerobench: interrupted, removing the containers");
                remove_live();
                let _ = emulate_default_handler(signal);
            }
        });
}

fn remove_live() {
    let live = std::mem::take(&mut *LIVE.lock().unwrap_or_else(|p| p.into_inner()));
    // Containers first: a network with containers attached cannot be removed.
    for resource in &live {
        if let Resource::Container(id) = resource {
            remove_container(id);
        }
    }
    for resource in &live {
        if let Resource::Network(id) = resource {
            remove_network(id);
        }
    }
}
