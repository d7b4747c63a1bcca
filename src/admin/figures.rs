//! How the operations pages print numbers: one spelling for "nothing measured" (`–`).

/// Milliseconds with one decimal, or `–`.
pub fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "–".into(), |v| format!("{v:.1} ms"))
}

/// A ratio as a percentage with one decimal, or `–`.
pub fn percent(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "–".into(), |r| format!("{:.1}%", r * 100.0))
}

/// `part` of `whole` as a ratio; `None` when `whole` is zero.
pub fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}
