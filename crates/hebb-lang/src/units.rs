//! Physical dimensions with rational exponents, and the unit symbols of the
//! language (LANGUAGE.md section 2). Values are stored in SI; a unit is a
//! scale factor to SI and a dimension.

use std::fmt;

/// A reduced fraction. Exponents of dimensions are rational because `sqrt`
/// halves them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Ratio {
    num: i32,
    den: i32,
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a.abs() } else { gcd(b, a % b) }
}

impl Ratio {
    pub const ZERO: Ratio = Ratio { num: 0, den: 1 };

    pub fn new(num: i64, den: i64) -> Ratio {
        debug_assert!(den != 0);
        let g = gcd(num, den).max(1);
        let (mut n, mut d) = (num / g, den / g);
        if d < 0 {
            n = -n;
            d = -d;
        }
        // Saturate rather than overflow on absurd inputs such as `m^999999`
        // squared repeatedly; such dimensions are never valid anyway.
        Ratio { num: n.clamp(-1 << 20, 1 << 20) as i32, den: d.clamp(1, 1 << 20) as i32 }
    }

    pub fn int(n: i32) -> Ratio {
        Ratio { num: n, den: 1 }
    }

    pub fn is_zero(self) -> bool {
        self.num == 0
    }

    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

impl std::ops::Add for Ratio {
    type Output = Ratio;
    fn add(self, o: Ratio) -> Ratio {
        Ratio::new(self.num as i64 * o.den as i64 + o.num as i64 * self.den as i64, self.den as i64 * o.den as i64)
    }
}

impl std::ops::Mul for Ratio {
    type Output = Ratio;
    fn mul(self, o: Ratio) -> Ratio {
        Ratio::new(self.num as i64 * o.num as i64, self.den as i64 * o.den as i64)
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 { write!(f, "{}", self.num) } else { write!(f, "({}/{})", self.num, self.den) }
    }
}

/// The seven SI base dimensions, in this order.
pub const BASE_SYMBOLS: [&str; 7] = ["m", "kg", "s", "A", "K", "mol", "cd"];

/// A physical dimension: exponents of the SI base units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Dim(pub [Ratio; 7]);

impl Dim {
    pub const ONE: Dim = Dim([Ratio::ZERO; 7]);

    pub const fn base(m: i32, kg: i32, s: i32, a: i32, k: i32, mol: i32) -> Dim {
        Dim([
            Ratio { num: m, den: 1 },
            Ratio { num: kg, den: 1 },
            Ratio { num: s, den: 1 },
            Ratio { num: a, den: 1 },
            Ratio { num: k, den: 1 },
            Ratio { num: mol, den: 1 },
            Ratio::ZERO,
        ])
    }

    pub const TIME: Dim = Dim::base(0, 0, 1, 0, 0, 0);
    pub const VOLT: Dim = Dim::base(2, 1, -3, -1, 0, 0);
    pub const AMPERE: Dim = Dim::base(0, 0, 0, 1, 0, 0);
    pub const SIEMENS: Dim = Dim::base(-2, -1, 3, 2, 0, 0);
    pub const FARAD: Dim = Dim::base(-2, -1, 4, 2, 0, 0);
    pub const OHM: Dim = Dim::base(2, 1, -3, -2, 0, 0);
    pub const METRE: Dim = Dim::base(1, 0, 0, 0, 0, 0);
    pub const MOLE: Dim = Dim::base(0, 0, 0, 0, 0, 1);
    pub const KELVIN: Dim = Dim::base(0, 0, 0, 0, 1, 0);
    pub const MOLAR: Dim = Dim::base(-3, 0, 0, 0, 0, 1);
    pub const HERTZ: Dim = Dim::base(0, 0, -1, 0, 0, 0);

    pub fn is_dimensionless(self) -> bool {
        self.0.iter().all(|r| r.is_zero())
    }

    pub fn powr(self, p: Ratio) -> Dim {
        let mut out = self;
        for k in 0..7 {
            out.0[k] = self.0[k] * p;
        }
        out
    }

    pub fn powi(self, p: i32) -> Dim {
        self.powr(Ratio::int(p))
    }

    /// A word for the physical quantity, when it has a common name.
    pub fn quantity_name(self) -> Option<&'static str> {
        NAMED.iter().find(|(_, d, _)| *d == self).map(|(_, _, n)| *n)
    }
}

/// Dimensions with a unit symbol of their own, used when printing.
const NAMED: [(&str, Dim, &str); 11] = [
    ("1", Dim::ONE, "dimensionless"),
    ("s", Dim::TIME, "time"),
    ("Hz", Dim::HERTZ, "rate"),
    ("V", Dim::VOLT, "voltage"),
    ("A", Dim::AMPERE, "current"),
    ("S", Dim::SIEMENS, "conductance"),
    ("F", Dim::FARAD, "capacitance"),
    ("ohm", Dim::OHM, "resistance"),
    ("m", Dim::METRE, "length"),
    ("mol", Dim::MOLE, "amount"),
    ("K", Dim::KELVIN, "temperature"),
];

impl std::ops::Mul for Dim {
    type Output = Dim;
    // Quantities multiply by adding the exponents of their dimensions.
    #[allow(clippy::suspicious_arithmetic_impl)]
    fn mul(self, o: Dim) -> Dim {
        let mut out = self;
        for (e, &f) in out.0.iter_mut().zip(&o.0) {
            *e = *e + f;
        }
        out
    }
}

impl std::ops::Div for Dim {
    type Output = Dim;
    fn div(self, o: Dim) -> Dim {
        self * o.powr(Ratio::int(-1))
    }
}

impl fmt::Display for Dim {
    /// Prints the dimension in unit form: a named unit where one fits (`V`,
    /// `V/s`, `S*V`, `1/s^2`), else SI base units (`kg*m^2/(s^3*A)`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (sym, d, _) in NAMED {
            if *self == d {
                return f.write_str(sym);
            }
        }
        // Powers of one named unit: `s^2`, `1/s^2`, `V^2`.
        for (a, da, _) in NAMED.iter().skip(1) {
            for p in [2, 3, -2, -3] {
                if *self == da.powi(p) {
                    return if p < 0 { write!(f, "1/{a}^{}", -p) } else { write!(f, "{a}^{p}") };
                }
            }
        }
        // A named unit over or times a power of the second: `V/s`, `S*s`.
        for (a, da, _) in NAMED.iter().skip(1).filter(|(a, _, _)| *a != "s" && *a != "Hz") {
            for p in [1, 2] {
                let sp = if p == 1 { "s".to_string() } else { format!("s^{p}") };
                if *self == *da / Dim::TIME.powi(p) {
                    return write!(f, "{a}/{sp}");
                }
                if *self == *da * Dim::TIME.powi(p) {
                    return write!(f, "{a}*{sp}");
                }
            }
        }
        // Two other named units.
        let others: Vec<&(&str, Dim, &str)> =
            NAMED.iter().skip(1).filter(|(a, _, _)| *a != "s" && *a != "Hz").collect();
        for (a, da, _) in &others {
            for (b, db, _) in &others {
                if a == b {
                    continue;
                }
                if *self == *da / *db {
                    return write!(f, "{a}/{b}");
                }
                if a < b && *self == *da * *db {
                    return write!(f, "{a}*{b}");
                }
            }
        }
        let mut num = Vec::new();
        let mut den = Vec::new();
        for (k, sym) in BASE_SYMBOLS.iter().enumerate() {
            let e = self.0[k];
            if e.is_zero() {
                continue;
            }
            let positive = e.as_f64() > 0.0;
            let mag = if positive { e } else { e * Ratio::int(-1) };
            let text = if mag == Ratio::int(1) { sym.to_string() } else { format!("{sym}^{mag}") };
            if positive { num.push(text) } else { den.push(text) }
        }
        let num = if num.is_empty() { "1".to_string() } else { num.join("*") };
        match den.len() {
            0 => f.write_str(&num),
            1 => write!(f, "{num}/{}", den[0]),
            _ => write!(f, "{num}/({})", den.join("*")),
        }
    }
}

/// A unit symbol: its SI scale and dimension.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unit {
    pub symbol: &'static str,
    pub scale: f64,
    pub dim: Dim,
}

const fn unit(symbol: &'static str, scale: f64, dim: Dim) -> Unit {
    Unit { symbol, scale, dim }
}

/// Every unit the language knows (LANGUAGE.md section 2).
pub const UNITS: &[Unit] = &[
    unit("s", 1.0, Dim::TIME),
    unit("ms", 1e-3, Dim::TIME),
    unit("us", 1e-6, Dim::TIME),
    unit("Hz", 1.0, Dim::HERTZ),
    unit("kHz", 1e3, Dim::HERTZ),
    unit("V", 1.0, Dim::VOLT),
    unit("mV", 1e-3, Dim::VOLT),
    unit("uV", 1e-6, Dim::VOLT),
    unit("A", 1.0, Dim::AMPERE),
    unit("mA", 1e-3, Dim::AMPERE),
    unit("uA", 1e-6, Dim::AMPERE),
    unit("nA", 1e-9, Dim::AMPERE),
    unit("pA", 1e-12, Dim::AMPERE),
    unit("S", 1.0, Dim::SIEMENS),
    unit("mS", 1e-3, Dim::SIEMENS),
    unit("uS", 1e-6, Dim::SIEMENS),
    unit("nS", 1e-9, Dim::SIEMENS),
    unit("pS", 1e-12, Dim::SIEMENS),
    unit("F", 1.0, Dim::FARAD),
    unit("uF", 1e-6, Dim::FARAD),
    unit("nF", 1e-9, Dim::FARAD),
    unit("pF", 1e-12, Dim::FARAD),
    unit("ohm", 1.0, Dim::OHM),
    unit("kohm", 1e3, Dim::OHM),
    unit("Mohm", 1e6, Dim::OHM),
    unit("Gohm", 1e9, Dim::OHM),
    // Molar: mol per litre = 1000 mol per cubic metre.
    unit("M", 1e3, Dim::MOLAR),
    unit("mM", 1.0, Dim::MOLAR),
    unit("uM", 1e-3, Dim::MOLAR),
    unit("m", 1.0, Dim::METRE),
    unit("mm", 1e-3, Dim::METRE),
    unit("um", 1e-6, Dim::METRE),
    unit("cm", 1e-2, Dim::METRE),
    unit("mol", 1.0, Dim::MOLE),
    unit("K", 1.0, Dim::KELVIN),
];

pub fn lookup(symbol: &str) -> Option<Unit> {
    UNITS.iter().find(|u| u.symbol == symbol).copied()
}

pub fn is_unit_symbol(name: &str) -> bool {
    lookup(name).is_some()
}

/// Formats an SI value in the most readable unit of its dimension, e.g.
/// `0.02 s` → `20 ms`. Used in diagnostics and `hebb explain`.
pub fn format_quantity(value: f64, dim: Dim) -> String {
    let candidates: Vec<&Unit> = UNITS.iter().filter(|u| u.dim == dim).collect();
    if candidates.is_empty() || value == 0.0 || !value.is_finite() {
        return if dim.is_dimensionless() { format!("{value}") } else { format!("{value} {dim}") };
    }
    // The largest unit in which the magnitude is at least 1.
    let mut best = candidates[0];
    for u in &candidates {
        let mag = (value / u.scale).abs();
        if mag >= 1.0 && (u.scale > best.scale || (value / best.scale).abs() < 1.0) {
            best = u;
        }
    }
    let shown = value / best.scale;
    let text = format!("{:.6}", shown);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {}", best.symbol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_units_print_in_unit_form() {
        assert_eq!(Dim::VOLT.to_string(), "V");
        assert_eq!((Dim::VOLT / Dim::TIME).to_string(), "V/s");
        assert_eq!((Dim::SIEMENS * Dim::VOLT).to_string(), "A");
        assert_eq!(Dim::TIME.powi(2).to_string(), "s^2");
        assert_eq!(Dim::ONE.to_string(), "1");
    }

    #[test]
    fn sqrt_halves_exponents() {
        let d = Dim::VOLT.powi(2).powr(Ratio::new(1, 2));
        assert_eq!(d, Dim::VOLT);
        let h = Dim::TIME.powr(Ratio::new(1, 2));
        assert_eq!(h.to_string(), "s^(1/2)");
    }

    #[test]
    fn ohms_law_holds() {
        assert_eq!(Dim::OHM * Dim::AMPERE, Dim::VOLT);
        assert_eq!(Dim::OHM * Dim::FARAD, Dim::TIME);
    }

    #[test]
    fn quantities_format_readably() {
        assert_eq!(format_quantity(0.02, Dim::TIME), "20 ms");
        assert_eq!(format_quantity(-0.07, Dim::VOLT), "-70 mV");
    }
}
