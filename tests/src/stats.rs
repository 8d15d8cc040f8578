//! Sample statistics shared by the tests and the benchmarks.

/// The `q` quantile (0.0–1.0) of `samples` by nearest rank; the default value when there are
/// none.
pub fn quantile<T: Copy + Ord + Default>(samples: &[T], q: f64) -> T {
    if samples.is_empty() {
        return T::default();
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_are_nearest_rank() {
        let samples = [5, 1, 4, 2, 3];
        assert_eq!(quantile(&samples, 0.5), 3);
        assert_eq!(quantile(&samples, 0.95), 5);
        assert_eq!(quantile(&samples, 0.0), 1);
        assert_eq!(quantile::<i64>(&[], 0.5), 0);
    }
}
