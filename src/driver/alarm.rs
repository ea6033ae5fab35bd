//! A one-shot timer with nanosecond precision that a Tokio reactor waits on (a Linux
//! timerfd). Tokio's own timer rounds up to whole milliseconds; this one fires within
//! microseconds, and it wakes whichever worker thread holds the reactor, with no other
//! thread in between.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// A timer not yet tied to a runtime, so it can be made before the runtime that waits on
/// it exists (a thread's own).
pub struct Timer(OwnedFd);

impl Timer {
    pub fn new() -> io::Result<Timer> {
        // SAFETY: timerfd_create takes no pointers; the descriptor it returns is owned here.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor nothing else owns.
        Ok(Timer(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// The timer registered with the current runtime's reactor.
    pub fn register(self) -> io::Result<Alarm> {
        // SAFETY: the descriptor is owned by the `OwnedFd` the `AsyncFd` holds, so it stays
        // open and the same until the `AsyncFd` is dropped.
        let registered = unsafe { AsyncFd::register_with_interest(self.0, Interest::READABLE) };
        Ok(Alarm(registered?))
    }
}

/// A [`Timer`] on a runtime's reactor.
pub struct Alarm(AsyncFd<OwnedFd>);

impl Alarm {
    /// Sleeps for `length` (at least 1 ns: a zero length would disarm the timer).
    pub async fn sleep(&self, length: Duration) -> io::Result<()> {
        let length = length.max(Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: length.as_secs() as libc::time_t,
                tv_nsec: length.subsec_nanos().into(),
            },
        };
        let fd = self.0.get_ref().as_raw_fd();
        // SAFETY: `spec` outlives the call; the old value is not asked for.
        if unsafe { libc::timerfd_settime(fd, 0, &spec, std::ptr::null_mut()) } < 0 {
            return Err(io::Error::last_os_error());
        }
        loop {
            let mut ready = self.0.readable().await?;
            let expired = ready.try_io(|fd| {
                let mut count = [0u8; 8];
                // SAFETY: reads at most 8 bytes into `count`.
                match unsafe { libc::read(fd.as_raw_fd(), count.as_mut_ptr().cast(), 8) } {
                    8 => Ok(()),
                    _ => Err(io::Error::last_os_error()),
                }
            });
            if let Ok(result) = expired {
                return result;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[tokio::test]
    async fn fires_after_its_length_and_again_when_set_again() {
        let alarm = Timer::new().unwrap().register().unwrap();
        for micros in [300, 0, 1500] {
            let set = Instant::now();
            alarm.sleep(Duration::from_micros(micros)).await.unwrap();
            assert!(set.elapsed() >= Duration::from_micros(micros), "woke early");
        }
    }
}
