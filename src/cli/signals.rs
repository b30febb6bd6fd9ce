//! SIGINT and SIGTERM: the first stops a run at the next step boundary
//! (what it recorded is kept, `run.json` says `interrupted`), a second one
//! exits at once. Exit codes 130 and 143, as shells report them.

use signal_hook::consts::{SIGINT, SIGTERM};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Which signal arrived, once handlers are installed.
#[derive(Clone)]
pub struct Interrupt {
    signal: Arc<AtomicUsize>,
}

impl Interrupt {
    /// Installs the handlers. If that fails (it should not), runs are
    /// simply not interruptible gracefully: the default handlers stay.
    pub fn install() -> Interrupt {
        let signal = Arc::new(AtomicUsize::new(0));
        let armed = Arc::new(AtomicBool::new(false));
        for sig in [SIGINT, SIGTERM] {
            // Registered first, so that it fires only on the second signal:
            // the registration below arms it on the first.
            let _ = signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&armed));
            let _ = signal_hook::flag::register(sig, Arc::clone(&armed));
            let _ = signal_hook::flag::register_usize(sig, Arc::clone(&signal), sig as usize);
        }
        Interrupt { signal }
    }

    /// Whether a signal arrived.
    pub fn received(&self) -> bool {
        self.signal.load(Ordering::Relaxed) != 0
    }

    /// The exit code for the signal that arrived: 130 for SIGINT, 143 for
    /// SIGTERM.
    pub fn exit_code(&self) -> u8 {
        match self.signal.load(Ordering::Relaxed) as i32 {
            SIGTERM => 143,
            _ => 130,
        }
    }
}
