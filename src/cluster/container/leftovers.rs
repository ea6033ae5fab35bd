//! What is still running, removed at process exit if nobody dropped it: the benchmark
//! harness keeps its target in a static, which is never dropped.

use std::sync::{Mutex, Once};

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
    let _ = std::panic::catch_unwind(|| {
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
    });
}
