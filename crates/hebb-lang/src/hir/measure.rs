//! Metrics as the checked model holds them: each metric of a `measure`
//! line, with its target, stimuli, phases and options.

use crate::span::Span;

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
    /// Noise correlation of the responses to stimuli (signal correlation in
    /// the details).
    NoiseCorrelation,
    /// Across-repetition Fano factor per stimulus, mean-matched.
    StimulusFano,
    /// Accuracy of a readout trained in one phase (`from`) and tested in
    /// another (`in`).
    Recall,
    /// Representational similarity of the code in one phase (`from`) and
    /// another (`in`).
    Similarity,
    /// How much accuracy a code lost between two phases: the
    /// cross-validated accuracy in `from` minus the `recall` in `in`.
    Forgetting,
    Drift,
    Weights,
    /// Spectral radius of a projection of a population onto itself, over
    /// its recorded weights.
    SpectralRadius,
    /// Within- over between-assembly weights of a recurrent projection,
    /// assemblies from the responses to stimuli.
    Assemblies,
    Control,
    /// E/I balance from two recorded neuron variables.
    Balance,
}

impl Metric {
    pub const ALL: [Metric; 19] = [
        Metric::Rates,
        Metric::CvIsi,
        Metric::Fano,
        Metric::Correlation,
        Metric::Synchrony,
        Metric::Spectrum,
        Metric::Information,
        Metric::Decoding,
        Metric::NoiseCorrelation,
        Metric::StimulusFano,
        Metric::Recall,
        Metric::Similarity,
        Metric::Forgetting,
        Metric::Drift,
        Metric::Weights,
        Metric::SpectralRadius,
        Metric::Assemblies,
        Metric::Control,
        Metric::Balance,
    ];

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

    /// Whether the metric is about stimulus coding (needs `about S`).
    pub fn needs_stimuli(self) -> bool {
        matches!(
            self,
            Metric::Information
                | Metric::Decoding
                | Metric::NoiseCorrelation
                | Metric::StimulusFano
                | Metric::Recall
                | Metric::Similarity
                | Metric::Forgetting
                | Metric::Drift
                | Metric::Assemblies
        )
    }

    /// Whether the metric compares two phases (`from A in B`).
    pub fn across_phases(self) -> bool {
        matches!(self, Metric::Recall | Metric::Similarity | Metric::Forgetting)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeasureTarget {
    Population(u32),
    Projection(u32),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    pub metric: Metric,
    pub target: MeasureTarget,
    pub about: Option<u32>,
    pub phase: Option<u32>,
    /// `recall`: the phase its readout is trained in (`from PHASE`).
    pub train_phase: Option<u32>,
    /// `control`: the target rate in Hz.
    pub target_rate: Option<f64>,
    /// `control`: when the perturbation starts (seconds); default: the
    /// start of the measured phase.
    pub perturbation: Option<f64>,
    /// Analysis options this metric takes (`bin`, `folds`, ...), in SI.
    pub options: Vec<(String, f64)>,
    /// `balance`: the states holding the excitatory and the inhibitory
    /// input (indices into the population's neuron type's states).
    pub inputs: Option<(u32, u32)>,
    pub span: Span,
}
