//! Student's t distribution: the quantiles a comparison's interval needs when it is
//! estimated from a handful of rounds (few degrees of freedom) and must hold for every
//! benchmark of the comparison at once (far tails). Exact enough for that, from the
//! regularized incomplete beta function (Numerical Recipes' continued fraction, Lanczos'
//! log-gamma), inverted by bisection.

/// The `p` quantile of Student's t with `df` degrees of freedom (`p` in (0, 1), `df` > 0).
pub fn quantile(p: f64, df: f64) -> f64 {
    if p < 0.5 {
        return -quantile(1.0 - p, df);
    }
    let (mut low, mut high) = (0.0, 1.0);
    while cdf(high, df) < p {
        high *= 2.0;
    }
    for _ in 0..100 {
        let mid = (low + high) / 2.0;
        match cdf(mid, df) < p {
            true => low = mid,
            false => high = mid,
        }
    }
    (low + high) / 2.0
}

/// P(T ≤ t) for `df` degrees of freedom.
pub fn cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * incomplete_beta(df / (df + t * t), df / 2.0, 0.5);
    match t >= 0.0 {
        true => 1.0 - tail,
        false => tail,
    }
}

/// The regularized incomplete beta function I_x(a, b).
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    match x < (a + 1.0) / (a + b + 2.0) {
        true => front * continued_fraction(x, a, b) / a,
        false => 1.0 - front * continued_fraction(1.0 - x, b, a) / b,
    }
}

/// Lentz's evaluation of the incomplete beta function's continued fraction.
fn continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    d = 1.0 / if d.abs() < TINY { TINY } else { d };
    let mut h = d;
    for m in 1..500 {
        let m = m as f64;
        for numerator in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + numerator * d;
            d = 1.0 / if d.abs() < TINY { TINY } else { d };
            c = 1.0 + numerator / c;
            c = if c.abs() < TINY { TINY } else { c };
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let sum = G[1..]
        .iter()
        .enumerate()
        .fold(G[0], |s, (i, g)| s + g / (x + i as f64 + 1.0));
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from printed t tables.
    #[test]
    fn quantiles_match_the_tables() {
        for (p, df, t) in [
            (0.975, 1.0, 12.706),
            (0.975, 2.0, 4.303),
            (0.975, 10.0, 2.228),
            (0.975, 30.0, 2.042),
            (0.995, 5.0, 4.032),
            (0.999, 10.0, 4.144),
            (0.9995, 20.0, 3.850),
            (0.975, 1000.0, 1.962),
        ] {
            let q = quantile(p, df);
            assert!((q - t).abs() < 2e-3, "t({p}, {df}) = {q}, table {t}");
            assert!((quantile(1.0 - p, df) + q).abs() < 1e-9);
        }
    }
}
