//! Connectivity: the (pre, post) pairs of a projection's connection rule,
//! in CSR order (by presynaptic neuron, then by postsynaptic neuron).
//!
//! Every draw is keyed by (seed, the projection's stream, neuron, counter),
//! so the pairs do not depend on the order they are made in.

use crate::error::{BuildError, err};
use crate::init::data_lines;
use hebb_ir::interp::{Element, eval_at};
use hebb_ir::symbolic::fold;
use hebb_ir::{Expr, Program, Projection, ProjectionId, Rule, Sel, rng, streams};
use std::path::Path;

/// The synapses of a projection: pairs in CSR order, and for a connection
/// file, each pair's weight and delay when the file gives them.
pub(crate) struct Connections {
    pub pairs: Vec<(u32, u32)>,
    /// Empty unless the rule is a file; then one entry per pair.
    pub file_extra: Vec<(Option<f64>, Option<f64>)>,
}

/// The pairs of projection `p`.
pub(crate) fn connect(
    program: &Program,
    p: usize,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<Connections, BuildError> {
    let proj = &program.projections[p];
    let rule = RuleContext { proj, seed: program.seed, stream: streams::connect(ProjectionId(p as u32)) };
    let pairs = match &proj.rule {
        Rule::AllToAll => rule.all_to_all(),
        Rule::OneToOne => rule.one_to_one(),
        Rule::Prob(e) => match fold(e).as_const() {
            Some(prob) => rule.constant_probability(prob),
            None => rule.probability(e),
        },
        Rule::OutDegree(k) => rule.out_degree(*k)?,
        Rule::InDegree(k) => rule.in_degree(*k)?,
        Rule::File(path) => return from_file(proj, path, read),
    };
    Ok(Connections { pairs, file_extra: Vec::new() })
}

/// What every rule needs: the projection and its random stream.
struct RuleContext<'a> {
    proj: &'a Projection,
    seed: u64,
    stream: u32,
}

impl RuleContext<'_> {
    /// Whether neurons `i` and `j` may be connected (no autapses unless
    /// allowed).
    fn allowed(&self, i: usize, j: usize) -> bool {
        self.proj.autapses || self.proj.pre.group != self.proj.post.group || i != j
    }

    fn all_to_all(&self) -> Vec<(u32, u32)> {
        let (pre, post) = (self.proj.pre, self.proj.post);
        let mut pairs = Vec::new();
        for i in pre.start..pre.end {
            for j in post.start..post.end {
                if self.allowed(i, j) {
                    pairs.push((i as u32, j as u32));
                }
            }
        }
        pairs
    }

    fn one_to_one(&self) -> Vec<(u32, u32)> {
        let (pre, post) = (self.proj.pre, self.proj.post);
        (0..pre.len())
            .map(|k| (pre.start + k, post.start + k))
            .filter(|&(i, j)| self.allowed(i, j))
            .map(|(i, j)| (i as u32, j as u32))
            .collect()
    }

    /// Each pair with probability `prob`, by geometric skipping: the gap to
    /// the next connected target is geometric, so the cost is O(synapses),
    /// not O(pairs).
    fn constant_probability(&self, prob: f64) -> Vec<(u32, u32)> {
        let (pre, post) = (self.proj.pre, self.proj.post);
        let mut pairs = Vec::new();
        if prob <= 0.0 {
            return pairs;
        }
        let log_q = (-prob).ln_1p();
        for i in pre.start..pre.end {
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
                    break;
                }
                let ju = j as usize;
                if self.allowed(i, ju) {
                    pairs.push((i as u32, ju as u32));
                }
            }
        }
        pairs
    }

    /// A probability that depends on i and j: one draw per pair.
    fn probability(&self, expr: &Expr) -> Vec<(u32, u32)> {
        let (pre, post) = (self.proj.pre, self.proj.post);
        let mut pairs = Vec::new();
        for i in pre.start..pre.end {
            for j in post.start..post.end {
                if !self.allowed(i, j) {
                    continue;
                }
                let element = Element { own: 0, pre: i as u64, post: j as u64, key: i as u64 };
                let pr = eval_at(expr, self.seed, self.stream, element, j as u64, &[], 0.0);
                let u = rng::uniform(self.seed, self.stream, i as u64, j as u64, 1);
                if u < pr {
                    pairs.push((i as u32, j as u32));
                }
            }
        }
        pairs
    }

    /// `k` distinct targets for every presynaptic neuron.
    fn out_degree(&self, k: usize) -> Result<Vec<(u32, u32)>, BuildError> {
        let (pre, post) = (self.proj.pre, self.proj.post);
        let mut chooser = Chooser::new(post.len());
        let mut pairs = Vec::new();
        for i in pre.start..pre.end {
            let excluded = (!self.allowed(i, i)).then_some(i).filter(|x| (post.start..post.end).contains(x));
            let pick = Pick { seed: self.seed, stream: self.stream, index: i as u64, sel: post, excluded };
            for j in chooser.choose(&pick, k, "outdegree", &self.proj.name)? {
                pairs.push((i as u32, j));
            }
        }
        Ok(pairs)
    }

    /// `k` distinct sources for every postsynaptic neuron, drawn per
    /// postsynaptic neuron, then put in CSR order by a counting sort on the
    /// presynaptic neuron (stable, so targets stay in increasing order
    /// within each row).
    fn in_degree(&self, k: usize) -> Result<Vec<(u32, u32)>, BuildError> {
        let (pre, post) = (self.proj.pre, self.proj.post);
        let mut chooser = Chooser::new(pre.len());
        let mut by_post = Vec::with_capacity(post.len() * k);
        for j in post.start..post.end {
            let excluded = (!self.allowed(j, j)).then_some(j).filter(|x| (pre.start..pre.end).contains(x));
            let pick = Pick { seed: self.seed, stream: self.stream, index: j as u64, sel: pre, excluded };
            for i in chooser.choose(&pick, k, "indegree", &self.proj.name)? {
                by_post.push((i, j as u32));
            }
        }
        let mut count = vec![0usize; pre.end + 1];
        for &(i, _) in &by_post {
            count[i as usize + 1] += 1;
        }
        for x in 1..count.len() {
            count[x] += count[x - 1];
        }
        let mut pairs = vec![(0, 0); by_post.len()];
        for &(i, j) in &by_post {
            pairs[count[i as usize]] = (i, j);
            count[i as usize] += 1;
        }
        Ok(pairs)
    }
}

/// A connection file: rows `pre,post[,w[,delay]]`, sorted into CSR order.
fn from_file(
    proj: &Projection,
    path: &Path,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<Connections, BuildError> {
    let (pre, post) = (proj.pre, proj.post);
    let text = read(path)
        .map_err(|e| err(format!("cannot read connection file `{}` of `{}`: {e}", path.display(), proj.name)))?;
    let mut rows = Vec::new();
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
        rows.push(((i as u32, j as u32), (w, d)));
    }
    rows.sort_by_key(|r| r.0);
    let (pairs, file_extra) = rows.into_iter().unzip();
    Ok(Connections { pairs, file_extra })
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

/// Draws fixed numbers of distinct partners, reusing its marks.
struct Chooser {
    marks: Vec<bool>,
    picked: Vec<u32>,
}

impl Chooser {
    fn new(n: usize) -> Chooser {
        Chooser { marks: vec![false; n], picked: Vec::new() }
    }

    /// `k` distinct partners, in increasing order, by Floyd's algorithm.
    /// `what` and `proj` name the rule and projection for the error.
    fn choose(&mut self, pick: &Pick, k: usize, what: &str, proj: &str) -> Result<Vec<u32>, BuildError> {
        let n = pick.sel.len() - usize::from(pick.excluded.is_some());
        if k > n {
            return Err(err(format!(
                "`{what} = {k}` in `{proj}` needs {k} distinct partners but only {n} are allowed (autapses excluded)"
            )));
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
