//! Server-rendered inline SVG line charts: no script, no external library. The markup is
//! built from numbers only, so it is safe to embed unescaped; colours come from the
//! stylesheet's classes (a strict CSP forbids inline styles).

use std::fmt::Write;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 140.0;
const PAD: f64 = 4.0;

/// One line: its CSS class (which sets its colour) and a value per point, `None` where
/// there is nothing to plot (a minute without requests).
pub struct Series {
    pub class: &'static str,
    pub points: Vec<Option<f64>>,
}

/// A horizontal marker line at `value` (a threshold), with its CSS class.
pub struct Threshold {
    pub class: &'static str,
    pub value: f64,
}

/// An SVG chart of `series` over equal steps, scaled to the largest value or threshold.
pub fn line_chart(label: &str, series: &[Series], thresholds: &[Threshold]) -> String {
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().flatten())
        .chain(thresholds.iter().map(|t| &t.value))
        .fold(0.0_f64, |a, &b| a.max(b));
    let scale = if max > 0.0 { max * 1.1 } else { 1.0 };
    let steps = series.iter().map(|s| s.points.len()).max().unwrap_or(0);
    let x = |i: usize| PAD + (WIDTH - 2.0 * PAD) * i as f64 / (steps.max(2) - 1) as f64;
    let y = |v: f64| HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * (v / scale);
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}">"#,
        escape(label)
    );
    let _ = write!(
        svg,
        r#"<line class="axis" x1="0" y1="{0}" x2="{WIDTH}" y2="{0}"/>"#,
        HEIGHT - PAD
    );
    for t in thresholds {
        let _ = write!(
            svg,
            r#"<line class="{}" x1="0" y1="{1:.1}" x2="{WIDTH}" y2="{1:.1}"/>"#,
            t.class,
            y(t.value)
        );
    }
    for s in series {
        // Gaps split the line, so a quiet minute is not drawn as a zero.
        let mut path = String::new();
        let mut pen_down = false;
        for (i, point) in s.points.iter().enumerate() {
            match point {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        x(i),
                        y(*v)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let _ = write!(
            svg,
            r#"<path class="{}" d="{}"/>"#,
            s.class,
            path.trim_end()
        );
    }
    let _ = write!(
        svg,
        r#"<text class="scale" x="{PAD}" y="12">{}</text></svg>"#,
        round(max)
    );
    svg
}

fn round(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_split_the_line_and_thresholds_are_drawn() {
        let svg = line_chart(
            "p95 <ms>",
            &[Series {
                class: "p95",
                points: vec![Some(10.0), None, Some(20.0), Some(30.0)],
            }],
            &[Threshold {
                class: "warn",
                value: 200.0,
            }],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches('M').count(), 2, "{svg}");
        assert!(svg.contains(r#"class="warn""#));
        assert!(svg.contains(r#"aria-label="p95 &lt;ms>""#));
        assert!(
            svg.contains(">200<"),
            "the scale covers the threshold: {svg}"
        );
        assert!(!svg.contains("style"));
    }
}
