//! What to run: a model (a file, or text with a notional path), its
//! variant and overrides, and how to run it; and its record in
//! `run.json`, from which it can be made again.

use hebb_ir::Precision;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// What runs the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// Cranelift-compiled native code (the default).
    #[default]
    Jit,
    /// The reference interpreter of the IR (slow; for checking the JIT).
    Interpreter,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Jit => "jit",
            Backend::Interpreter => "interpreter",
        }
    }
}

/// Where a model's text comes from.
#[derive(Clone, Debug)]
pub enum ModelSource {
    /// A file, read when the model is checked.
    File(PathBuf),
    /// Text in memory that notionally lives at `path` (imports and data
    /// files are resolved next to it).
    Text { text: String, path: PathBuf },
}

impl ModelSource {
    /// The path as the user gave it.
    pub fn path(&self) -> &Path {
        match self {
            ModelSource::File(p) | ModelSource::Text { path: p, .. } => p,
        }
    }
}

/// One run of a model: which model, which of its variants, what to change,
/// and how to run it.
#[derive(Clone, Debug)]
pub struct Request {
    pub source: ModelSource,
    /// An experiment variant, applied before checking.
    pub variant: Option<String>,
    /// `--set Type.param=value` texts.
    pub settings: Vec<String>,
    /// Simulated duration (seconds), overriding the experiment's.
    pub duration: Option<f64>,
    pub seed: Option<u64>,
    pub backend: Backend,
    /// Keep every synaptic variable per synapse (for checking hoisting).
    pub no_hoist: bool,
    /// Store decaying per-synapse variables as of their last update, not
    /// scaled (for checking scaling).
    pub no_scale: bool,
    /// Storage precision of state columns, overriding the experiment's
    /// `precision` (`--precision`).
    pub precision: Option<Precision>,
    /// Write a checkpoint this often (seconds of simulated time); a run
    /// that is interrupted always writes one where it stopped.
    pub checkpoint_every: Option<f64>,
    /// Start from the state in this checkpoint (a `checkpoint.hebb`, or a
    /// run directory holding one) instead of the initial state.
    pub from: Option<PathBuf>,
    /// Write into an output directory even if it holds another run.
    pub force: bool,
    /// The most memory the network may take (bytes); without it, what the
    /// machine has available.
    pub max_memory: Option<u64>,
    /// Threads for one run (results do not depend on it).
    pub threads: usize,
    /// The least work (neurons, synapses reached) per thread for which a
    /// kernel call is split across threads; `None`: the runtime's default.
    /// For tests and tuning: results do not depend on it.
    pub grain: Option<usize>,
    /// Time every part of the step (`hebb run --profile`).
    pub profile: bool,
}

impl Request {
    /// The model file as it is, with the JIT.
    pub fn file(path: impl Into<PathBuf>) -> Request {
        Request::new(ModelSource::File(path.into()))
    }

    /// Model text that notionally lives at `path`.
    pub fn text(text: impl Into<String>, path: impl Into<PathBuf>) -> Request {
        Request::new(ModelSource::Text { text: text.into(), path: path.into() })
    }

    /// What `run.json` records of a request: enough to make it again
    /// (`Request::from_json`).
    pub fn to_json(&self) -> Value {
        json!({
            "model": self.source.path().display().to_string(),
            "variant": self.variant,
            "settings": self.settings,
            "duration": self.duration,
            "seed": self.seed,
            "backend": self.backend.name(),
            "no_hoist": self.no_hoist,
            "no_scale": self.no_scale,
            "precision": self.precision.map(Precision::name),
            "checkpoint_every": self.checkpoint_every,
            "from": self.from.as_ref().map(|p| p.display().to_string()),
            "max_memory": self.max_memory,
            "threads": self.threads,
            "profile": self.profile,
        })
    }

    /// The request a `run.json` recorded; `Err` says what is missing.
    pub fn from_json(v: &Value) -> Result<Request, String> {
        let model = v["model"].as_str().ok_or("it names no model")?;
        let settings = match &v["settings"] {
            Value::Array(items) => items
                .iter()
                .map(|s| s.as_str().map(String::from).ok_or("a setting is not text"))
                .collect::<Result<_, _>>()?,
            Value::Null => Vec::new(),
            _ => return Err("its settings are not a list".into()),
        };
        let backend = match v["backend"].as_str() {
            None | Some("jit") => Backend::Jit,
            Some("interpreter") => Backend::Interpreter,
            Some(other) => return Err(format!("it names an unknown backend `{other}`")),
        };
        Ok(Request {
            variant: v["variant"].as_str().map(String::from),
            settings,
            duration: v["duration"].as_f64(),
            seed: v["seed"].as_u64(),
            backend,
            no_hoist: v["no_hoist"].as_bool().unwrap_or(false),
            no_scale: v["no_scale"].as_bool().unwrap_or(false),
            precision: match v["precision"].as_str() {
                None => None,
                Some(p) => Some(Precision::parse(p).ok_or_else(|| format!("it names an unknown precision `{p}`"))?),
            },
            checkpoint_every: v["checkpoint_every"].as_f64(),
            from: v["from"].as_str().map(PathBuf::from),
            max_memory: v["max_memory"].as_u64(),
            threads: v["threads"].as_u64().map_or(1, |t| t as usize),
            grain: None,
            profile: v["profile"].as_bool().unwrap_or(false),
            ..Request::file(model)
        })
    }

    fn new(source: ModelSource) -> Request {
        Request {
            source,
            variant: None,
            settings: Vec::new(),
            duration: None,
            seed: None,
            backend: Backend::Jit,
            no_hoist: false,
            no_scale: false,
            precision: None,
            checkpoint_every: None,
            from: None,
            force: false,
            max_memory: None,
            threads: 1,
            grain: None,
            profile: false,
        }
    }

    pub(super) fn lower_options(&self) -> hebb_lower::Options {
        hebb_lower::Options {
            duration: self.duration,
            seed: self.seed,
            no_hoist: self.no_hoist,
            no_scale: self.no_scale,
            precision: self.precision,
        }
    }
}
