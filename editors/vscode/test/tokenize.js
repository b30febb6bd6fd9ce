'use strict';
// Tokenizes every models/**/*.hebb file of the repository with the TextMate
// grammar (syntaxes/hebb.tmLanguage.json), the way VS Code does, and checks:
//
//  1. coverage: every character of every line is in exactly one token, and
//     the tokenizer did not stop early;
//  2. nothing meaningful is left plain: a token that carries only the root
//     scope `source.hebb` may contain only whitespace and identifiers, and
//     such an identifier must not be a keyword of grammar/hebb.pest, a
//     reserved word or a built-in name (unless it is used as a name: directly
//     followed by `=`, as in `network = cuba` or `{ rate = 10 Hz }`, or
//     `pre`/`post` naming a population), nor a unit directly after a number.
//     So a number, a unit, a keyword, an operator, a bracket or a `#`
//     comment left with only the root scope is a failure;
//  3. spot checks on shipped models (comments, quantities, declarations,
//     strings, imports, ...) and on a synthetic snippet for what the models
//     do not use;
//  4. the grammar agrees with grammar/hebb.pest: every `kw_*` keyword is
//     highlighted as a keyword, every `known_unit` as a unit, both after a
//     number and on its own, and the grammar's unit lists are exactly the
//     parser's;
//  5. snapshots: for each model, one line per non-blank token (line:column,
//     text, most specific scope) in test/snapshots/<path with / as __>.snap.
//     UPDATE_SNAPSHOTS=1 (re)writes them; otherwise a missing, stale or
//     different snapshot is a failure.
//
// Exits 1 on any failure, 0 otherwise.

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const EXT_DIR = path.resolve(__dirname, '..');
const REPO = path.resolve(EXT_DIR, '..', '..');
const GRAMMAR_FILE = path.join(EXT_DIR, 'syntaxes', 'hebb.tmLanguage.json');
const PEST_FILE = path.join(REPO, 'grammar', 'hebb.pest');
const MODELS_DIR = path.join(REPO, 'models');
const SNAPSHOT_DIR = path.join(__dirname, 'snapshots');
const UPDATE = process.env.UPDATE_SNAPSHOTS === '1';
const ROOT = 'source.hebb';

// Built-in names of docs/language.md section 11 (the parser treats them as
// identifiers, so they are not in hebb.pest).
const BUILTIN_NAMES = ['t', 'dt', 'i', 'j', 'N', 'lastspike', 'pi'];
const ITEM_KEYWORDS = ['neuron', 'synapse', 'signal', 'network', 'experiment'];

let passed = 0;
const failures = [];

function check(ok, message) {
  if (ok) passed += 1;
  else failures.push(message);
  return ok;
}

// ------------------------------------------------------------ the parser's lists

function pestLists() {
  const pest = fs.readFileSync(PEST_FILE, 'utf8');
  const keywords = [...pest.matchAll(/^kw_\w+\s*=\s*@\{\s*"(\w+)"/gm)].map((m) => m[1]);
  const reservedRule = pest.match(/^reserved\s*=.*$/m);
  const reserved = reservedRule ? [...reservedRule[0].matchAll(/"(\w+)"/g)].map((m) => m[1]) : [];
  const unitRule = pest.match(/^known_unit\s*=\s*@\{([\s\S]*?)\n\}/m);
  const units = unitRule ? [...unitRule[1].matchAll(/"(\w+)"/g)].map((m) => m[1]) : [];
  check(keywords.length >= 40, `grammar/hebb.pest: found only ${keywords.length} kw_* rules`);
  check(reserved.length === 5, `grammar/hebb.pest: expected 5 reserved words, found ${reserved.length}`);
  check(units.length >= 30, `grammar/hebb.pest: found only ${units.length} known units`);
  return { keywords, reserved, units };
}

// ------------------------------------------------------------ tokenizing

async function loadGrammar() {
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) =>
      scopeName === ROOT ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR_FILE, 'utf8'), GRAMMAR_FILE) : null,
  });
  const grammar = await registry.loadGrammar(ROOT);
  if (!grammar) throw new Error(`cannot load ${GRAMMAR_FILE}`);
  return grammar;
}

// Returns [{ number, text, tokens: [{ start, end, text, scopes }], stoppedEarly }].
function tokenize(grammar, source) {
  const lines = source.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let stack = vsctm.INITIAL;
  return lines.map((text, index) => {
    const result = grammar.tokenizeLine(text, stack, 5000);
    stack = result.ruleStack;
    const tokens = result.tokens
      .map((t) => ({ start: t.startIndex, end: Math.min(t.endIndex, text.length), scopes: t.scopes }))
      .filter((t) => t.end > t.start)
      .map((t) => ({ ...t, text: text.slice(t.start, t.end) }));
    return { number: index + 1, text, tokens, stoppedEarly: result.stoppedEarly };
  });
}

const isPlain = (token) => token.scopes.length === 1 && token.scopes[0] === ROOT;
const mostSpecific = (token) => token.scopes[token.scopes.length - 1];

// ------------------------------------------------------------ checks 1 and 2

function checkCoverage(where, line) {
  let at = 0;
  let ok = !line.stoppedEarly;
  for (const token of line.tokens) {
    if (token.start !== at) ok = false;
    at = token.end;
  }
  if (at !== line.text.length) ok = false;
  check(ok, `${where}:${line.number}: the tokens do not cover the line exactly once${line.stoppedEarly ? ' (tokenizer stopped early)' : ''}`);
}

function checkPlain(where, line, forbidden) {
  let ok = true;
  for (const token of line.tokens.filter(isPlain)) {
    for (const m of token.text.matchAll(/[A-Za-z_][A-Za-z0-9_]*|\s+|[^\sA-Za-z_]+/g)) {
      const lexeme = m[0];
      const col = token.start + m.index;
      const before = line.text.slice(0, col);
      const after = line.text.slice(col + lexeme.length);
      let problem = null;
      if (/^\s+$/.test(lexeme)) continue;
      if (!/^[A-Za-z_]/.test(lexeme)) {
        problem = `${JSON.stringify(lexeme)} is not an identifier`;
      } else if (/(?<![A-Za-z0-9_.])[0-9.][0-9.eE+-]*\s*$/.test(before) && /[0-9]\s*$/.test(before)) {
        problem = `${JSON.stringify(lexeme)} follows a number but is not scoped as a unit`;
      } else if (forbidden.has(lexeme)) {
        const usedAsName =
          /^\s*=(?!=)/.test(after) ||
          ((lexeme === 'pre' || lexeme === 'post') && !/\bon\s+$/.test(before) && !/^\s*\./.test(after));
        if (!usedAsName) problem = `the word ${JSON.stringify(lexeme)} is left plain`;
      }
      if (problem) {
        ok = false;
        failures.push(`${where}:${line.number}:${col + 1}: only "${ROOT}": ${problem}\n    ${line.text}`);
      }
    }
  }
  if (ok) passed += 1;
}

// ------------------------------------------------------------ check 3 helpers

// The tokens covering the first occurrence of `needle` on the first line that
// contains `lineNeedle` (a string or a RegExp). `needle` may be
// [prefix, text]: then the text right after the first `prefix + text`.
// With `aligned`, the tokens must start and end exactly at the text.
function tokensOf(lines, where, lineNeedle, needle, aligned = true) {
  const test = typeof lineNeedle === 'string' ? (s) => s.includes(lineNeedle) : (s) => lineNeedle.test(s);
  const line = lines.find((l) => test(l.text));
  if (!line) return { error: `${where}: no line matches ${lineNeedle}` };
  const [prefix, text] = Array.isArray(needle) ? needle : ['', needle];
  const found = line.text.indexOf(prefix + text);
  if (found < 0) return { error: `${where}:${line.number}: ${JSON.stringify(prefix + text)} not found` };
  const index = found + prefix.length;
  const end = index + text.length;
  const tokens = line.tokens.filter((t) => t.end > index && t.start < end);
  if (tokens.length === 0 || (aligned && (tokens[0].start !== index || tokens[tokens.length - 1].end !== end))) {
    return { error: `${where}:${line.number}: ${JSON.stringify(text)} does not start and end at token boundaries (tokens: ${JSON.stringify(tokens.map((t) => t.text))})` };
  }
  return { line, tokens };
}

// `needle` is exactly a run of tokens, each with a scope that is `scope` or
// starts with `scope.` (e.g. `constant.numeric`); with `scope === ROOT`, the
// tokens over `needle` are plain (plain tokens may extend beyond it).
function expectScope(lines, where, lineNeedle, needle, scope) {
  const found = tokensOf(lines, where, lineNeedle, needle, scope !== ROOT);
  if (found.error) return check(false, found.error);
  const bad = found.tokens.filter((t) =>
    scope === ROOT ? !isPlain(t) : !t.scopes.some((s) => s === scope || s.startsWith(scope + '.')),
  );
  return check(
    bad.length === 0,
    `${where}:${found.line.number}: ${JSON.stringify(needle)} should be ${scope === ROOT ? 'plain' : scope}, ` +
      `got ${bad.map((t) => `${JSON.stringify(t.text)} [${t.scopes.join(' ')}]`).join(', ')}`,
  );
}

// ------------------------------------------------------------ check 3: models

function modelSpotChecks(byPath) {
  const get = (rel) => {
    const lines = byPath.get(rel);
    check(Boolean(lines), `spot checks: ${rel} is missing`);
    return lines || [];
  };
  const cuba = get('models/cuba.hebb');
  const w = 'models/cuba.hebb';
  // A whole comment line, and its `#`.
  const first = cuba[0];
  check(
    first && first.text.startsWith('#') && first.tokens.every((t) => t.scopes.includes('comment.line.number-sign.hebb')),
    `${w}:1: the comment line is not comment.line.number-sign.hebb throughout`,
  );
  expectScope(cuba, w, /^# CUBA/, '#', 'punctuation.definition.comment.hebb');
  expectScope(cuba, w, '# Brian2\'s synapses', ['    ', '# Brian2\'s synapses: we = 60 * 0.27 / 10 mV, wi = -20 * 4.5 / 10 mV.'], 'comment.line.number-sign.hebb');
  // Items and declarations.
  expectScope(cuba, w, 'neuron CubaLIF', 'neuron', 'storage.type');
  expectScope(cuba, w, 'neuron CubaLIF', 'CubaLIF', 'entity.name.type.hebb');
  expectScope(cuba, w, 'network cuba', 'network', 'storage.type');
  expectScope(cuba, w, 'experiment {', 'experiment', 'storage.type');
  expectScope(cuba, w, 'network  = cuba', 'network', ROOT);
  expectScope(cuba, w, 'param tau_m', 'param', 'keyword.other.hebb');
  expectScope(cuba, w, 'param tau_m', 'tau_m', 'entity.name.variable.hebb');
  expectScope(cuba, w, 'state g_e : mV', 'mV', 'keyword.other.unit.hebb');
  // Quantities.
  expectScope(cuba, w, 'param tau_m   = 20 ms', '20', 'constant.numeric.hebb');
  expectScope(cuba, w, 'param tau_m   = 20 ms', 'ms', 'keyword.other.unit.hebb');
  expectScope(cuba, w, 'param v_th', '-', 'keyword.operator.arithmetic.hebb');
  expectScope(cuba, w, 'param v_th', '50', 'constant.numeric.hebb');
  expectScope(cuba, w, 'param v_th', 'mV', 'keyword.other.unit.hebb');
  expectScope(cuba, w, 'dt       = 0.1 ms', '0.1', 'constant.numeric.hebb');
  expectScope(cuba, w, 'dt       = 0.1 ms', 'dt', 'variable.language.hebb');
  // Equations, members, operators.
  expectScope(cuba, w, 'dv/dt', 'dv/dt', 'entity.name.function.derivative.hebb');
  expectScope(cuba, w, 'dg_e/dt', 'g_e', 'variable.other.state.hebb');
  expectScope(cuba, w, 'unless refractory', 'unless', 'keyword.control');
  expectScope(cuba, w, 'unless refractory', 'refractory', 'keyword.other.hebb');
  expectScope(cuba, w, 'spike when', 'spike', 'keyword.other.hebb');
  expectScope(cuba, w, 'spike when', 'when', 'keyword.control');
  expectScope(cuba, w, 'spike when', '>', 'keyword.operator.comparison.hebb');
  expectScope(cuba, w, 'method exact', 'exact', 'support.constant.method.hebb');
  expectScope(cuba, w, 'reset {', '{', 'punctuation.section.block.begin.hebb');
  expectScope(cuba, w, 'population P', '4000', 'constant.numeric.hebb');
  expectScope(cuba, w, 'population P', 'CubaLIF', 'entity.name.type.hebb');
  expectScope(cuba, w, 'population P', 'uniform', 'support.function');
  expectScope(cuba, w, 'connect P[0..3200]', '..', 'keyword.operator.range.hebb');
  expectScope(cuba, w, 'connect P[0..3200]', '3200', 'constant.numeric.hebb');
  expectScope(cuba, w, 'connect P[0..3200]', '->', 'keyword.operator.arrow.hebb');
  expectScope(cuba, w, 'connect P[0..3200]', 'Static', 'support.type.builtin.hebb');
  expectScope(cuba, w, 'connect P[0..3200]', 'target', ROOT);
  expectScope(cuba, w, 'record spikes of P', 'spikes', 'support.constant.record.hebb');

  // Strings: a spike_times file option and import paths.
  const triplet = get('models/synapses/triplet_pfister2006.hebb');
  const wt = 'models/synapses/triplet_pfister2006.hebb';
  expectScope(triplet, wt, 'pairing_pre_20hz.csv', '"pairing_pre_20hz.csv"', 'string.quoted.double.hebb');
  expectScope(triplet, wt, 'population pre =', 'pre', 'entity.name.variable.hebb');
  expectScope(triplet, wt, 'spike_times { file', 'spike_times', 'support.type.builtin.hebb');
  expectScope(triplet, wt, 'spike_times { file', 'file', ROOT);
  expectScope(triplet, wt, 'connect pre -> post with TripletMinimal', 'pre', ROOT);
  expectScope(triplet, wt, 'on pre {', 'pre', 'keyword.other.hebb');
  const compare = get('models/tutorial/05_compare.hebb');
  const wc = 'models/tutorial/05_compare.hebb';
  expectScope(compare, wc, 'import "02_network.hebb"', 'import', 'keyword.control.import.hebb');
  expectScope(compare, wc, 'import "02_network.hebb"', '"02_network.hebb"', 'string.quoted.double.hebb');
  expectScope(compare, wc, 'post.g_e += w', 'post', 'variable.language.hebb');
  expectScope(compare, wc, 'post.g_e += w', 'g_e', 'variable.other.property.hebb');
  expectScope(compare, wc, 'post.g_e += w', '+=', 'keyword.operator.assignment.compound.hebb');
  expectScope(compare, wc, 'w = clip(', 'clip', 'support.function');
  expectScope(compare, wc, 'seeds = [1, 2', '[', 'punctuation.section.brackets.begin.hebb');
  expectScope(compare, wc, 'experiment comparison', 'comparison', 'entity.name.type.hebb');
  expectScope(compare, wc, 'phase test 8 s', 'test', 'entity.name.section.hebb');
  expectScope(compare, wc, 'phase test 8 s', ['8 ', 's'], 'keyword.other.unit.hebb');
  expectScope(compare, wc, 'phase test 8 s', 'all', 'keyword.other.hebb');
  expectScope(compare, wc, 'stimuli patterns', 'random_patterns', 'support.type.builtin.hebb');
  expectScope(compare, wc, 'stimuli patterns', 'rate', ROOT);
  expectScope(compare, wc, 'variant no_ip', 'AdaptiveLIF', ROOT);
  expectScope(compare, wc, 'variant no_ip', 'eta', 'variable.other.property.hebb');

  // A bare unit in an expression; a stimulus set named like a unit.
  const izh = get('models/neurons/izhikevich.hebb');
  expectScope(izh, 'models/neurons/izhikevich.hebb', 'du/dt', 'ms', 'keyword.other.unit.hebb');
  expectScope(izh, 'models/neurons/izhikevich.hebb', 'dv/dt', '^', 'keyword.operator.arithmetic.hebb');
  const forget = get('models/experiments/forgetting.hebb');
  const wf = 'models/experiments/forgetting.hebb';
  expectScope(forget, wf, 'phase learn_a', 'A', ROOT);
  expectScope(forget, wf, 'phase learn_a', 'present', 'keyword.other.hebb');
  expectScope(forget, wf, 'measure recall of exc about A from', 'about', 'keyword.other.hebb');
  expectScope(forget, wf, 'measure recall of exc about A from', 'A', ROOT);
  const homeo = get('models/tutorial/04_homeostasis.hebb');
  expectScope(homeo, 'models/tutorial/04_homeostasis.hebb', 'plastic dtheta/dt', 'plastic', 'keyword.other.hebb');
  expectScope(homeo, 'models/tutorial/04_homeostasis.hebb', 'plastic dtheta/dt', 'dtheta/dt', 'entity.name.function.derivative.hebb');
  const da = get('models/synapses/da_stdp_izhikevich2007.hebb');
  expectScope(da, 'models/synapses/da_stdp_izhikevich2007.hebb', 'continuous dw/dt', 'continuous', 'keyword.other.hebb');
  expectScope(da, 'models/synapses/da_stdp_izhikevich2007.hebb', 'continuous dw/dt', ['dopamine.', 'd'], 'variable.other.property.hebb');
}

// ------------------------------------------------------------ check 3: synthetic

const SNIPPET = `neuron Syn {
    param a : nS/ms^2 = 1e-3 mV/ms
    state states : 1 = 2.5E+2 ms^2
    state b = .5
    let c = 8e-5 / (mV * mV * ms)
    let e = 2 * tau + 1 / 2 ms + 2tau
    plastic dtheta/dt = -theta / 1 s
    spike when v > 1 mV and not (a > 5) or true
    reset {
        parameter_x = states + parameter
        if a > 3 { b = 0 } else if b > 2 { b += pre_count }
        b = x \\
            + 1
    }
}
synapse S2 {
    continuous dw/dt = pos(post.v - pre.lastspike) / s
    on pre { post.g -= w; sig.d *= 2; sig.e /= lastspike }
}
network n {
    population pre = (2 * 5) LIF { rate = 10 Hz }
    population src = 10 poisson { rate = 5 Hz * (1 + sin(2 * pi * 5 Hz * t)) }
    connect pre -> post with Static(target = g) { p = exp(-abs(i - j) / 10); autapses = false }
}
experiment {
    network = n
    abort when rate of exc > 100 Hz
    set src.rate = 2 Hz
    file = "unclosed
}
`;

function syntheticChecks(grammar, forbidden) {
  const lines = tokenize(grammar, SNIPPET);
  const w = 'synthetic snippet';
  lines.forEach((line) => {
    checkCoverage(w, line);
    if (line.text.includes('"unclosed')) return;
    checkPlain(w, line, forbidden);
  });
  const x = (lineNeedle, needle, scope) => expectScope(lines, w, lineNeedle, needle, scope);
  // Declared units and quantities with compound units, exponents, powers.
  x('param a :', 'nS', 'keyword.other.unit.hebb');
  x('param a :', '/', 'keyword.operator.arithmetic.hebb');
  x('param a :', '^', 'keyword.operator.arithmetic.hebb');
  x('param a :', '2', 'constant.numeric.hebb');
  x('param a :', '1e-3', 'constant.numeric.hebb');
  x('param a :', ['1e-3 ', 'mV'], 'keyword.other.unit.hebb');
  x('param a :', ['mV/', 'ms'], 'keyword.other.unit.hebb');
  x('param a :', '1e-3 mV/ms', 'meta.quantity.hebb');
  x('state states', 'states', 'entity.name.variable.hebb');
  x('state states', '1', 'constant.numeric.hebb');
  x('state states', '2.5E+2', 'constant.numeric.hebb');
  x('state states', 'ms', 'keyword.other.unit.hebb');
  x('state b', '.5', 'constant.numeric.hebb');
  x('let c', '8e-5', 'constant.numeric.hebb');
  x('let c', ['(', 'mV'], 'keyword.other.unit.hebb');
  x('let c', ['mV * ', 'mV'], 'keyword.other.unit.hebb');
  x('let c', ['mV * mV * ', 'ms'], 'keyword.other.unit.hebb');
  x('let c', '*', 'keyword.operator.arithmetic.hebb');
  x('let e', 'tau', ROOT);
  x('let e', '2 ms', 'meta.quantity.hebb');
  x('let e', '2tau', 'meta.quantity.hebb');
  // Equations and conditions.
  x('plastic dtheta', 'theta', 'variable.other.state.hebb');
  x('plastic dtheta', '-', 'keyword.operator.arithmetic.hebb');
  x('plastic dtheta', ['-', 'theta'], ROOT);
  x('spike when', 'and', 'keyword.operator.logical.hebb');
  x('spike when', 'not', 'keyword.operator.logical.hebb');
  x('spike when', 'or', 'keyword.operator.logical.hebb');
  x('spike when', 'true', 'constant.language');
  x('spike when', '(', 'punctuation.section.parens.begin.hebb');
  // Names that merely start with a keyword stay plain.
  x('parameter_x =', 'parameter_x', ROOT);
  x('parameter_x =', 'states', ROOT);
  x('parameter_x =', ['+ ', 'parameter'], ROOT);
  x('if a > 3', 'if', 'keyword.control');
  x('if a > 3', 'else', 'keyword.control');
  x('if a > 3', 'pre_count', ROOT);
  x('b = x \\', '\\', 'punctuation.separator.continuation.line.hebb');
  // Synapses.
  x('continuous dw/dt', 'pos', 'support.function');
  x('continuous dw/dt', 'pre', 'variable.language.hebb');
  x('continuous dw/dt', '.', 'punctuation.accessor.hebb');
  x('continuous dw/dt', 'lastspike', 'variable.other.property.hebb');
  x('continuous dw/dt', ['/ ', 's'], 'keyword.other.unit.hebb');
  x('on pre {', '-=', 'keyword.operator.assignment.compound.hebb');
  x('on pre {', '*=', 'keyword.operator.assignment.compound.hebb');
  x('on pre {', '/=', 'keyword.operator.assignment.compound.hebb');
  x('on pre {', ';', 'punctuation.terminator.statement.hebb');
  x('on pre {', 'lastspike', 'variable.language.hebb');
  // Networks.
  x('population pre = (2', 'pre', 'entity.name.variable.hebb');
  x('population pre = (2', '2', 'constant.numeric.hebb');
  x('population pre = (2', 'LIF', 'entity.name.type.hebb');
  x('population pre = (2', 'rate', ROOT);
  x('population pre = (2', 'Hz', 'keyword.other.unit.hebb');
  x('population src', 'poisson', 'support.type.builtin.hebb');
  x('population src', 'sin', 'support.function');
  x('population src', 'pi', 'variable.language.hebb');
  x('population src', ['Hz * ', 't'], 'variable.language.hebb');
  x('connect pre', 'pre', ROOT);
  x('connect pre', 'exp', 'support.function');
  x('connect pre', ['abs(', 'i'], 'variable.language.hebb');
  x('connect pre', ['- ', 'j'], 'variable.language.hebb');
  x('connect pre', 'false', 'constant.language');
  x('connect pre', 'autapses', ROOT);
  // Experiments.
  x('network = n', 'network', ROOT);
  x('abort when', 'abort', 'keyword.other.hebb');
  x('abort when', 'rate', 'keyword.other.hebb');
  x('abort when', 'of', 'keyword.other.hebb');
  x('abort when', '100', 'constant.numeric.hebb');
  x('set src.rate', 'set', 'keyword.other.hebb');
  x('set src.rate', 'rate', 'variable.other.property.hebb');
  x('file = "unclosed', '"unclosed', 'invalid.illegal');
  x('file = "unclosed', '"unclosed', 'string.quoted.double.hebb');
}

// ------------------------------------------------------------ check 4: hebb.pest

function pestChecks(grammar, { keywords, reserved, units }) {
  const one = (source, needle, scope, what) => {
    const lines = tokenize(grammar, source);
    const line = lines[lines.length - 1];
    const index = line.text.lastIndexOf(needle);
    const token = line.tokens.find((t) => t.start === index && t.end === index + needle.length);
    check(
      Boolean(token) && token.scopes.some((s) => s === scope || s.startsWith(scope + '.')),
      `hebb.pest ${what} ${JSON.stringify(needle)}: expected ${scope} in ${JSON.stringify(line.text)}, got ` +
        (token ? `[${token.scopes.join(' ')}]` : 'no token with exactly this text'),
    );
  };
  for (const kw of keywords) {
    if (ITEM_KEYWORDS.includes(kw)) one(`${kw} Name {`, kw, 'storage.type', 'keyword');
    else if (kw === 'import') one(`import "x.hebb"`, kw, 'keyword.control.import', 'keyword');
    else if (kw === 'pre' || kw === 'post') one(`    on ${kw} {`, kw, 'keyword', 'keyword');
    else one(`    ${kw} x`, kw, 'keyword', 'keyword');
  }
  for (const word of reserved) {
    const scope = word === 'true' || word === 'false' ? 'constant.language' : 'keyword.operator.logical';
    one(`    spike when a ${word}`, word, scope, 'reserved word');
  }
  for (const unit of units) {
    one(`    param x = 2 ${unit}`, unit, 'keyword.other.unit', 'unit');
    one(`    param x = 3 mV/${unit}^2`, unit, 'keyword.other.unit', 'unit');
    one(`    param x = y * ${unit}`, unit, 'keyword.other.unit', 'unit');
    one(`    state x : ${unit}`, unit, 'keyword.other.unit', 'unit');
  }
  // The grammar's own unit alternations are exactly the parser's.
  const raw = JSON.parse(fs.readFileSync(GRAMMAR_FILE, 'utf8'));
  const expected = [...units].sort().join(' ');
  for (const rule of ['quantity', 'bare-units']) {
    const m = raw.repository[rule].match.match(/\(\?:((?:kohm)(?:\|\w+)+)\)/);
    const got = m ? m[1].split('|').sort().join(' ') : '(no unit list found)';
    check(got === expected, `repository.${rule}: its units differ from known_unit in hebb.pest:\n    grammar: ${got}\n    pest:    ${expected}`);
  }
}

// ------------------------------------------------------------ check 5: snapshots

function snapshotText(lines) {
  const out = [];
  for (const line of lines) {
    for (const token of line.tokens) {
      if (/^\s*$/.test(token.text)) continue;
      out.push(`${line.number}:${token.start + 1} ${JSON.stringify(token.text)} ${mostSpecific(token)}`);
    }
  }
  return out.join('\n') + '\n';
}

function snapshotName(rel) {
  return rel.split('/').join('__') + '.snap';
}

function compareSnapshot(rel, actual) {
  const file = path.join(SNAPSHOT_DIR, snapshotName(rel));
  const shown = path.relative(EXT_DIR, file);
  if (UPDATE) {
    const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    if (old !== actual) fs.writeFileSync(file, actual);
    passed += 1;
    return old === null ? 'new' : old !== actual ? 'updated' : 'same';
  }
  if (!fs.existsSync(file)) {
    check(false, `${rel}: snapshot ${shown} is missing (run with UPDATE_SNAPSHOTS=1 to write it)`);
    return 'missing';
  }
  const expected = fs.readFileSync(file, 'utf8');
  if (expected === actual) {
    passed += 1;
    return 'same';
  }
  const e = expected.split('\n');
  const a = actual.split('\n');
  let first = 0;
  while (first < e.length && first < a.length && e[first] === a[first]) first += 1;
  let differing = 0;
  for (let k = 0; k < Math.max(e.length, a.length); k += 1) if (e[k] !== a[k]) differing += 1;
  check(
    false,
    `${rel}: tokens differ from ${shown} (${differing} of ${Math.max(e.length, a.length)} lines differ; ` +
      `rerun with UPDATE_SNAPSHOTS=1 if the change is intended); first difference at snapshot line ${first + 1}:\n` +
      `    expected: ${e[first] === undefined ? '<end of file>' : e[first]}\n` +
      `    actual:   ${a[first] === undefined ? '<end of file>' : a[first]}`,
  );
  return 'different';
}

// ------------------------------------------------------------ main

function findModels(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findModels(full));
    else if (entry.isFile() && entry.name.endsWith('.hebb')) found.push(full);
  }
  return found;
}

async function main() {
  const lists = pestLists();
  const forbidden = new Set([...lists.keywords, ...lists.reserved, ...BUILTIN_NAMES, ...ITEM_KEYWORDS]);
  const grammar = await loadGrammar();

  const models = findModels(MODELS_DIR)
    .map((full) => path.relative(REPO, full).split(path.sep).join('/'))
    .sort();
  check(models.length > 0, `no .hebb files under ${MODELS_DIR}`);

  if (UPDATE) fs.mkdirSync(SNAPSHOT_DIR, { recursive: true });
  const byPath = new Map();
  const written = { new: 0, updated: 0 };
  let lineCount = 0;
  let tokenCount = 0;
  for (const rel of models) {
    const lines = tokenize(grammar, fs.readFileSync(path.join(REPO, rel), 'utf8'));
    byPath.set(rel, lines);
    for (const line of lines) {
      checkCoverage(rel, line);
      checkPlain(rel, line, forbidden);
      lineCount += 1;
      tokenCount += line.tokens.length;
    }
    const outcome = compareSnapshot(rel, snapshotText(lines));
    if (outcome in written) written[outcome] += 1;
  }

  // Snapshots of models that no longer exist.
  const wanted = new Set(models.map(snapshotName));
  const existing = fs.existsSync(SNAPSHOT_DIR) ? fs.readdirSync(SNAPSHOT_DIR).filter((f) => f.endsWith('.snap')) : [];
  for (const stale of existing.filter((f) => !wanted.has(f))) {
    if (UPDATE) fs.unlinkSync(path.join(SNAPSHOT_DIR, stale));
    else check(false, `test/snapshots/${stale}: no model of that name (stale snapshot; UPDATE_SNAPSHOTS=1 removes it)`);
  }

  modelSpotChecks(byPath);
  syntheticChecks(grammar, forbidden);
  pestChecks(grammar, lists);

  for (const failure of failures.slice(0, 50)) console.error(`FAIL ${failure}`);
  if (failures.length > 50) console.error(`... and ${failures.length - 50} more failures`);
  if (UPDATE) console.log(`tokenize: snapshots written: ${written.new} new, ${written.updated} updated`);
  console.log(`tokenize: ${models.length} files, ${lineCount} lines, ${tokenCount} tokens`);
  console.log(`tokenize: ${passed} passed, ${failures.length} failed`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}

main().catch((err) => {
  console.error(`FAIL ${err && err.stack ? err.stack : err}`);
  process.exitCode = 1;
});
