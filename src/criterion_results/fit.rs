//! The batch cost model: time per batch call = fixed cost + marginal cost × keys, fitted by
//! least squares over the batch sizes measured (1 to 128). The fixed part is what batching
//! amortizes; the marginal part is what every extra key still costs.

/// A fitted line `time = fixed + per_key × keys`, with its error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchModel {
    pub fixed_ns: f64,
    pub per_key_ns: f64,
    /// Root-mean-square residual of the fit, in nanoseconds.
    pub rms_error_ns: f64,
    /// Coefficient of determination (1 = a perfect line).
    pub r_squared: f64,
}

/// Fits `points` of (keys per batch, nanoseconds per call); `None` with fewer than two
/// distinct sizes.
pub fn fit(points: &[(f64, f64)]) -> Option<BatchModel> {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if points.len() < 2 || sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let per_key_ns = sxy / sxx;
    let fixed_ns = mean_y - per_key_ns * mean_x;
    let residual: f64 = points
        .iter()
        .map(|p| (p.1 - fixed_ns - per_key_ns * p.0).powi(2))
        .sum();
    let total: f64 = points.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
    Some(BatchModel {
        fixed_ns,
        per_key_ns,
        rms_error_ns: (residual / n).sqrt(),
        r_squared: if total == 0.0 {
            1.0
        } else {
            1.0 - residual / total
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_line() {
        let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]
            .iter()
            .map(|&k| (k, 20_000.0 + 150.0 * k))
            .collect();
        let model = fit(&points).unwrap();
        assert!((model.fixed_ns - 20_000.0).abs() < 1e-6);
        assert!((model.per_key_ns - 150.0).abs() < 1e-9);
        assert!(model.rms_error_ns < 1e-6);
        assert!((model.r_squared - 1.0).abs() < 1e-12);
        assert!(fit(&[(4.0, 1.0), (4.0, 2.0)]).is_none());
    }
}
