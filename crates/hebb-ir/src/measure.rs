//! Metrics of an experiment as the IR carries them: what each `measure`
//! computes, over which group or projection, phases and options.

use crate::{GroupId, ProjectionId};

/// What a `measure` computes (docs/metrics.md defines each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Rates,
    CvIsi,
    Fano,
    Correlation,
    Synchrony,
    Spectrum,
    Information,
    Decoding,
    NoiseCorrelation,
    StimulusFano,
    Recall,
    Similarity,
    Forgetting,
    Drift,
    Weights,
    SpectralRadius,
    Assemblies,
    Control,
    Balance,
}

impl Metric {
    /// The name a model writes, and the first part of the metric's column.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Rates => "rates",
            Metric::CvIsi => "cv_isi",
            Metric::Fano => "fano",
            Metric::Correlation => "correlation",
            Metric::Synchrony => "synchrony",
            Metric::Spectrum => "spectrum",
            Metric::Information => "information",
            Metric::Decoding => "decoding",
            Metric::NoiseCorrelation => "noise_correlation",
            Metric::StimulusFano => "stimulus_fano",
            Metric::Recall => "recall",
            Metric::Similarity => "similarity",
            Metric::Forgetting => "forgetting",
            Metric::Drift => "drift",
            Metric::Weights => "weights",
            Metric::SpectralRadius => "spectral_radius",
            Metric::Assemblies => "assemblies",
            Metric::Balance => "balance",
            Metric::Control => "control",
        }
    }
}

/// What a measure is about: a group's spikes, or a projection's weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeasureTarget {
    Group(GroupId),
    Projection(ProjectionId),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    pub metric: Metric,
    /// A group or a projection (`weights`).
    pub target: MeasureTarget,
    pub about: Option<u32>,
    pub phase: Option<u32>,
    /// The phase's name (kept when `--duration` cuts the phase off).
    pub phase_name: Option<String>,
    /// `recall`: the phase its readout is trained in, and its name.
    pub train_phase: Option<u32>,
    pub train_phase_name: Option<String>,
    pub target_rate: Option<f64>,
    pub perturbation: Option<f64>,
    /// Analysis options (`bin`, `folds`, `shuffles`, ...), in SI; absent
    /// ones take their defaults.
    pub options: Vec<(String, f64)>,
    /// `balance`: the group's columns holding the excitatory and the
    /// inhibitory input, with their names.
    pub inputs: Option<((String, u32), (String, u32))>,
}

impl Measure {
    /// The value of analysis option `name`, or `default`.
    pub fn option(&self, name: &str, default: f64) -> f64 {
        self.options.iter().find(|(n, _)| n == name).map_or(default, |(_, v)| *v)
    }
}
