//! What can go wrong, as data: a network that cannot be built, and a run
//! that stopped early. The runtime knows no units: callers word run errors
//! for users (the `hebb` crate's `session::describe`).

/// Why a run stopped before its end.
#[derive(Clone, Debug, PartialEq)]
pub enum RunError {
    /// A neuron (or synaptic) variable stopped being finite.
    NonFinite { group: String, variable: String, index: usize, time: f64 },
    /// Found by the periodic scan of synaptic state, at or before `time`.
    NonFiniteSynapse { projection: String, variable: String, which: SynapseRef, time: f64 },
    /// An `abort when` condition held: the rate (Hz) of `group` over the
    /// last `window` seconds compared with `threshold` by `op`.
    Aborted { group: String, rate: f64, op: &'static str, threshold: f64, window: f64, time: f64 },
}

/// Which synapses a non-finite synaptic value belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SynapseRef {
    /// One synapse, by its neurons.
    Synapse { pre: u32, post: u32 },
    /// A hoisted variable: every synapse of presynaptic neuron `i`.
    OfPre(u32),
    /// Every synapse of postsynaptic neuron `j`.
    OfPost(u32),
}

impl RunError {
    /// `run.json`'s status for this outcome.
    pub fn status(&self) -> &'static str {
        match self {
            RunError::Aborted { .. } => "aborted",
            _ => "failed",
        }
    }

    /// When it happened (seconds).
    pub fn time(&self) -> f64 {
        match self {
            RunError::NonFinite { time, .. }
            | RunError::NonFiniteSynapse { time, .. }
            | RunError::Aborted { time, .. } => *time,
        }
    }
}

/// A problem with the data a model refers to (a spike or connection file),
/// or a network that cannot be built as specified.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct BuildError {
    pub message: String,
}

pub(crate) fn err(message: impl Into<String>) -> BuildError {
    BuildError { message: message.into() }
}
