//! Connectivity: the synapses of a projection's connection rule, made
//! straight into CSR rows (by presynaptic neuron, then by postsynaptic
//! neuron): 4 bytes per synapse while building, the store itself, so a
//! network of 10^8 synapses is built in the memory it runs in.
//!
//! Every draw is keyed by (seed, the projection's stream, neuron, counter),
//! so the synapses do not depend on the order they are made in: rules that
//! draw per neuron (constant `p`, `outdegree`, `indegree`) are drawn on
//! several threads, in chunks of neurons joined in neuron order.

use crate::error::{BuildError, err};
use crate::init::data_lines;
use hebb_ir::interp::{Element, eval_at};
use hebb_ir::symbolic::fold;
use hebb_ir::{Expr, Program, Projection, ProjectionId, Rule, Sel, rng, streams};
use std::path::Path;

/// The synapses of a projection in CSR order, and for a connection file,
/// each synapse's weight and delay when the file gives them.
pub(crate) struct Connections {
    pub rows: Rows,
    /// Empty unless the rule is a file; then one entry per synapse.
    pub file_extra: Vec<(Option<f64>, Option<f64>)>,
}

/// Synapses by presynaptic neuron: `row_start[i]..row_start[i+1]` are the
/// synapses of neuron i (of the whole presynaptic group), `targets` their
/// postsynaptic neurons.
pub(crate) struct Rows {
    pub row_start: Vec<u32>,
    pub targets: Vec<u32>,
}

impl Rows {
    /// Rows for `n_pre` neurons, filled in increasing order by `push`.
    fn new(n_pre: usize) -> Rows {
        Rows { row_start: Vec::with_capacity(n_pre + 1), targets: Vec::new() }
    }

    /// Adds neuron `i`'s synapse onto `j`; neurons come in increasing
    /// order.
    fn push(&mut self, i: usize, j: usize) {
        self.close_rows_to(i);
        self.targets.push(j as u32);
    }

    /// Ends every row before `i`.
    fn close_rows_to(&mut self, i: usize) {
        while self.row_start.len() <= i {
            self.row_start.push(self.targets.len() as u32);
        }
    }

    /// Ends the last rows, up to `n_pre`.
    fn finish(mut self, n_pre: usize) -> Result<Rows, BuildError> {
        if self.targets.len() >= u32::MAX as usize {
            return Err(err(format!("{} synapses, more than one projection can hold (2^32 - 1)", self.targets.len())));
        }
        self.close_rows_to(n_pre);
        self.targets.shrink_to_fit();
        Ok(self)
    }

    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Every synapse with its presynaptic neuron, in order.
    pub fn synapses(&self) -> impl Iterator<Item = (usize, u32, u32)> + '_ {
        (0..self.row_start.len() - 1).flat_map(move |i| {
            (self.row_start[i] as usize..self.row_start[i + 1] as usize).map(move |s| (s, i as u32, self.targets[s]))
        })
    }
}

/// The synapses of projection `p`, whose presynaptic group has `n_pre`
/// neurons, drawn on up to `threads` threads (the result does not depend
/// on it).
pub(crate) fn connect(
    program: &Program,
    p: usize,
    n_pre: usize,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
    threads: usize,
) -> Result<Connections, BuildError> {
    let proj = &program.projections[p];
    let stream = streams::connect(ProjectionId(p as u32));
    let rule = RuleContext { proj, seed: program.seed, stream, threads: threads.max(1) };
    let mut rows = Rows::new(n_pre);
    match &proj.rule {
        Rule::AllToAll => rule.all_to_all(&mut rows),
        Rule::OneToOne => rule.one_to_one(&mut rows),
        Rule::Prob(e) => match fold(e).as_const() {
            Some(prob) => rule.constant_probability(prob, &mut rows)?,
            None => rule.probability(e, &mut rows),
        },
        Rule::OutDegree(k) => rule.out_degree(*k, &mut rows)?,
        Rule::InDegree(k) => rule.in_degree(*k, &mut rows)?,
        Rule::File(path) => return from_file(proj, path, n_pre, read),
    };
    let rows = rows.finish(n_pre).map_err(|e| err(format!("`{}` has {e}", proj.name)))?;
    Ok(Connections { rows, file_extra: Vec::new() })
}

/// What every rule needs: the projection and its random stream.
struct RuleContext<'a> {
    proj: &'a Projection,
    seed: u64,
    stream: u32,
    /// Threads the per-neuron rules may use.
    threads: usize,
}

/// Neurons per chunk of parallel drawing: at least this many, and enough
/// chunks per thread to even out rows of different lengths.
const CHUNK: usize = 1024;

/// What `in_chunks` hands `join` for a chunk: its first neuron, what its
/// neurons appended, and where each neuron's share ends.
type ChunkJoin<'a> = &'a mut dyn FnMut(usize, &[u32], &[u32]);

/// What a chunk appended, and where each neuron's share ends.
type Chunk = (Vec<u32>, Vec<u32>);

/// Runs `f(k, out)` for every `k` in `range`, each appending to `out`, in
/// chunks of neurons, up to `threads` chunks at a time on scoped threads;
/// `join` takes each wave's chunks in order as soon as the wave is done,
/// so at most one wave's output is held besides what `join` keeps.
fn in_chunks<E: Send>(
    range: std::ops::Range<usize>,
    threads: usize,
    f: &(impl Fn(usize, &mut Vec<u32>) -> Result<(), E> + Sync),
    join: ChunkJoin<'_>,
) -> Result<(), E> {
    let chunk = (range.len() / (threads * 16)).max(CHUNK);
    let starts: Vec<usize> = range.clone().step_by(chunk).collect();
    let run = |start: usize| -> Result<Chunk, E> {
        let mut out = Vec::new();
        let mut ends = Vec::new();
        for k in start..(start + chunk).min(range.end) {
            f(k, &mut out)?;
            ends.push(out.len() as u32);
        }
        Ok((out, ends))
    };
    for wave in starts.chunks(threads) {
        let results: Vec<Result<Chunk, E>> = std::thread::scope(|s| {
            let handles: Vec<_> = wave[1..].iter().map(|&st| s.spawn(move || run(st))).collect();
            let mut all = vec![run(wave[0])];
            // A panic in a worker is a bug: pass it on.
            all.extend(handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))));
            all
        });
        for (&start, r) in wave.iter().zip(results) {
            let (out, ends) = r?;
            join(start, &out, &ends);
        }
    }
    Ok(())
}

impl RuleContext<'_> {
    /// Whether neurons `i` and `j` may be connected (no autapses unless
    /// allowed).
    fn allowed(&self, i: usize, j: usize) -> bool {
        self.proj.autapses || self.proj.pre.group != self.proj.post.group || i != j
    }

    fn all_to_all(&self, rows: &mut Rows) {
        let (pre, post) = (self.proj.pre, self.proj.post);
        for i in pre.start..pre.end {
            for j in post.start..post.end {
                if self.allowed(i, j) {
                    rows.push(i, j);
                }
            }
        }
    }

    fn one_to_one(&self, rows: &mut Rows) {
        let (pre, post) = (self.proj.pre, self.proj.post);
        for (i, j) in (0..pre.len()).map(|k| (pre.start + k, post.start + k)) {
            if self.allowed(i, j) {
                rows.push(i, j);
            }
        }
    }

    /// Each pair with probability `prob`, by geometric skipping: the gap to
    /// the next connected target is geometric, so the cost is O(synapses),
    /// not O(pairs).
    fn constant_probability(&self, prob: f64, rows: &mut Rows) -> Result<(), BuildError> {
        let (pre, post) = (self.proj.pre, self.proj.post);
        if prob <= 0.0 {
            return Ok(());
        }
        // The expected count, so that the store is allocated once.
        rows.targets.reserve((prob.min(1.0) * pre.len() as f64 * post.len() as f64 * 1.001) as usize + 64);
        let log_q = (-prob).ln_1p();
        let row = |i: usize, out: &mut Vec<u32>| -> Result<(), BuildError> {
            let mut j = post.start as f64 - 1.0;
            let mut k = 0u64;
            loop {
                let skip = if prob >= 1.0 {
                    0.0
                } else {
                    let u = 1.0 - rng::uniform(self.seed, self.stream, i as u64, k, 0);
                    k += 1;
                    (u.ln() / log_q).floor()
                };
                j += skip + 1.0;
                if j >= post.end as f64 {
                    return Ok(());
                }
                let ju = j as usize;
                if self.allowed(i, ju) {
                    out.push(ju as u32);
                }
            }
        };
        self.rows_by_neuron(rows, &row)
    }

    /// Every presynaptic neuron's row by `row` (targets in increasing
    /// order), on `threads` threads when there are enough neurons.
    fn rows_by_neuron(
        &self,
        rows: &mut Rows,
        row: &(impl Fn(usize, &mut Vec<u32>) -> Result<(), BuildError> + Sync),
    ) -> Result<(), BuildError> {
        let pre = self.proj.pre;
        if self.threads == 1 || pre.len() < 2 * CHUNK {
            for i in pre.start..pre.end {
                rows.close_rows_to(i);
                row(i, &mut rows.targets)?;
            }
            return Ok(());
        }
        in_chunks(pre.start..pre.end, self.threads, row, &mut |start, out, ends| {
            let mut from = 0;
            for (k, &end) in ends.iter().enumerate() {
                rows.close_rows_to(start + k);
                rows.targets.extend_from_slice(&out[from..end as usize]);
                from = end as usize;
            }
        })
    }

    /// A probability that depends on i and j: one draw per pair.
    fn probability(&self, expr: &Expr, rows: &mut Rows) {
        let (pre, post) = (self.proj.pre, self.proj.post);
        for i in pre.start..pre.end {
            for j in post.start..post.end {
                if !self.allowed(i, j) {
                    continue;
                }
                let element = Element { own: 0, pre: i as u64, post: j as u64, key: i as u64 };
                let pr = eval_at(expr, self.seed, self.stream, element, j as u64, &[], 0.0);
                let u = rng::uniform(self.seed, self.stream, i as u64, j as u64, 1);
                if u < pr {
                    rows.push(i, j);
                }
            }
        }
    }

    /// `k` distinct targets for every presynaptic neuron.
    fn out_degree(&self, k: usize, rows: &mut Rows) -> Result<(), BuildError> {
        let (pre, post) = (self.proj.pre, self.proj.post);
        rows.targets.reserve(pre.len() * k);
        let row = |i: usize, out: &mut Vec<u32>| -> Result<(), BuildError> {
            let excluded = (!self.allowed(i, i)).then_some(i).filter(|x| (post.start..post.end).contains(x));
            let pick = Pick { seed: self.seed, stream: self.stream, index: i as u64, sel: post, excluded };
            out.extend(Chooser::choose(&pick, k, "outdegree", &self.proj.name)?);
            Ok(())
        };
        self.rows_by_neuron(rows, &row)
    }

    /// `k` distinct sources for every postsynaptic neuron, drawn per
    /// postsynaptic neuron (the sources of neuron `post.start + m` are
    /// entries `m k..(m + 1) k`), then put in CSR order by a counting sort
    /// on the presynaptic neuron (stable, so targets stay in increasing
    /// order within each row).
    fn in_degree(&self, k: usize, rows: &mut Rows) -> Result<(), BuildError> {
        let (pre, post) = (self.proj.pre, self.proj.post);
        let mut sources = Vec::with_capacity(post.len() * k);
        let draw = |j: usize, out: &mut Vec<u32>| -> Result<(), BuildError> {
            let excluded = (!self.allowed(j, j)).then_some(j).filter(|x| (pre.start..pre.end).contains(x));
            let pick = Pick { seed: self.seed, stream: self.stream, index: j as u64, sel: pre, excluded };
            out.extend(Chooser::choose(&pick, k, "indegree", &self.proj.name)?);
            Ok(())
        };
        if self.threads == 1 || post.len() < 2 * CHUNK {
            for j in post.start..post.end {
                draw(j, &mut sources)?;
            }
        } else {
            in_chunks(post.start..post.end, self.threads, &draw, &mut |_, out, _| sources.extend_from_slice(out))?;
        }
        let mut fill = vec![0u32; pre.end + 1];
        for &i in &sources {
            fill[i as usize + 1] += 1;
        }
        for x in 1..fill.len() {
            fill[x] += fill[x - 1];
        }
        rows.targets = vec![0; sources.len()];
        rows.row_start = fill.clone();
        for (m, &i) in sources.iter().enumerate() {
            rows.targets[fill[i as usize] as usize] = (post.start + m / k.max(1)) as u32;
            fill[i as usize] += 1;
        }
        Ok(())
    }
}

/// A connection file: rows `pre,post[,w[,delay]]`, sorted into CSR order.
fn from_file(
    proj: &Projection,
    path: &Path,
    n_pre: usize,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<Connections, BuildError> {
    let (pre, post) = (proj.pre, proj.post);
    let text = read(path)
        .map_err(|e| err(format!("cannot read connection file `{}` of `{}`: {e}", path.display(), proj.name)))?;
    let mut lines = Vec::new();
    for (line_no, line) in data_lines(&text) {
        let bad =
            |what: String| err(format!("{}:{}: {what} (expected `pre,post[,w[,delay]]`)", path.display(), line_no + 1));
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if !(2..=4).contains(&fields.len()) {
            return Err(bad(format!("{} fields", fields.len())));
        }
        let i: usize = fields[0].parse().map_err(|_| bad(format!("`{}` is not a neuron index", fields[0])))?;
        let j: usize = fields[1].parse().map_err(|_| bad(format!("`{}` is not a neuron index", fields[1])))?;
        if i < pre.start || i >= pre.end || j < post.start || j >= post.end {
            return Err(bad(format!("pair ({i}, {j}) is outside the populations")));
        }
        let num = |k: usize| -> Result<Option<f64>, BuildError> {
            match fields.get(k) {
                None => Ok(None),
                Some(s) => s
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .map(Some)
                    .ok_or_else(|| bad(format!("`{s}` is not a number"))),
            }
        };
        let w = num(2)?;
        let d = num(3)?;
        if d.is_some_and(|d| d < 0.0) {
            return Err(bad("negative delay".into()));
        }
        lines.push(((i as u32, j as u32), (w, d)));
    }
    lines.sort_by_key(|r| r.0);
    let mut rows = Rows::new(n_pre);
    let mut file_extra = Vec::with_capacity(lines.len());
    for ((i, j), extra) in lines {
        rows.push(i as usize, j as usize);
        file_extra.push(extra);
    }
    let rows = rows.finish(n_pre).map_err(|e| err(format!("`{}` has {e}", proj.name)))?;
    Ok(Connections { rows, file_extra })
}

/// Where to draw a neuron's partners from: the draws are keyed by `index`
/// (the neuron), the partners are members of `sel` other than `excluded`.
struct Pick {
    seed: u64,
    stream: u32,
    index: u64,
    sel: Sel,
    excluded: Option<usize>,
}

/// Draws fixed numbers of distinct partners, reusing its marks (one per
/// thread, see `CHOOSER`).
#[derive(Default)]
struct Chooser {
    marks: Vec<bool>,
    picked: Vec<u32>,
}

thread_local! {
    /// Each thread's marks, grown to the largest selection drawn from and
    /// left all false after every draw.
    static CHOOSER: std::cell::RefCell<Chooser> = std::cell::RefCell::default();
}

impl Chooser {
    /// `k` distinct partners, in increasing order, by Floyd's algorithm.
    /// `what` and `proj` name the rule and projection for the error.
    fn choose(pick: &Pick, k: usize, what: &str, proj: &str) -> Result<Vec<u32>, BuildError> {
        let n = pick.sel.len() - usize::from(pick.excluded.is_some());
        if k > n {
            return Err(err(format!(
                "`{what} = {k}` in `{proj}` needs {k} distinct partners but only {n} are allowed (autapses excluded)"
            )));
        }
        CHOOSER.with(|c| c.borrow_mut().draw(pick, k, n))
    }

    fn draw(&mut self, pick: &Pick, k: usize, n: usize) -> Result<Vec<u32>, BuildError> {
        if self.marks.len() < n {
            self.marks.resize(n, false);
        }
        self.picked.clear();
        for (d, j) in (n - k..n).enumerate() {
            let r = ((rng::uniform(pick.seed, pick.stream, pick.index, d as u64, 0) * (j + 1) as f64) as usize).min(j);
            let chosen = if self.marks[r] { j } else { r };
            self.marks[chosen] = true;
            self.picked.push(chosen as u32);
        }
        self.picked.sort_unstable();
        let mut out = Vec::with_capacity(k);
        for &p in &self.picked {
            self.marks[p as usize] = false;
            // Positions skip the excluded neuron.
            let mut x = pick.sel.start + p as usize;
            if pick.excluded.is_some_and(|e| x >= e) {
                x += 1;
            }
            out.push(x as u32);
        }
        Ok(out)
    }
}
