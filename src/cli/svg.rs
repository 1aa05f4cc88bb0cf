//! Two small inline SVG charts for the report: stacked columns (records
//! over time) and horizontal bars (top N). Fixed sizes, flat colours, no
//! script, no external reference; every label goes through
//! [`markup::text`](super::markup::text).

use std::fmt::Write as _;

use super::markup::{num, text};

/// Characters of a label shown (the table under the chart has all).
const LABEL_CAP: usize = 28;
const FONT: &str = "font-family=\"sans-serif\" font-size=\"11\" fill=\"#333\"";

/// One series of stacked columns: its name and colour (`#rrggbb`).
pub(crate) struct Series<'a> {
    pub(crate) name: &'a str,
    pub(crate) color: &'a str,
}

/// Stacked columns, `width` × `height` pixels: `columns[i][s]` is series
/// `s` in column `i`, `labels[i]` the column's label (a few are shown
/// under the axis).
pub(crate) fn columns(
    width: u32,
    height: u32,
    series: &[Series<'_>],
    labels: &[String],
    columns: &[Vec<u64>],
) -> String {
    let mut out = open(width, height);
    let (left, right, top, bottom) = (48.0, 8.0, 24.0, 28.0);
    let plot_w = f64::from(width) - left - right;
    let plot_h = f64::from(height) - top - bottom;
    let max = columns
        .iter()
        .map(|c| c.iter().sum::<u64>())
        .max()
        .unwrap_or(0);
    legend(&mut out, series, left);
    axis(&mut out, left, top, plot_w, plot_h, max);
    if columns.is_empty() || max == 0 {
        empty(&mut out, width, height);
        return close(out);
    }
    let slot = plot_w / columns.len() as f64;
    let bar_w = (slot * 0.8).clamp(1.0, 40.0);
    for (i, column) in columns.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
        let mut y = top + plot_h;
        for (value, s) in column.iter().zip(series) {
            if *value == 0 {
                continue;
            }
            let h = plot_h * *value as f64 / max as f64;
            y -= h;
            rect(&mut out, x, y, bar_w, h, s.color);
        }
    }
    let n = labels.len();
    let shown: Vec<usize> = match n {
        0 => vec![],
        1 => vec![0],
        _ => vec![0, n / 2, n - 1],
    };
    for i in shown {
        let x = left + slot * (i as f64 + 0.5);
        let anchor = if i == 0 && n > 1 {
            "start"
        } else if i == n - 1 && n > 1 {
            "end"
        } else {
            "middle"
        };
        let _ = write!(out, "<text {FONT} text-anchor=\"{anchor}\" x=\"");
        num(&mut out, if anchor == "start" { left } else { x });
        out.push_str("\" y=\"");
        num(&mut out, top + plot_h + 16.0);
        out.push_str("\">");
        text(&mut out, &labels[i], 40);
        out.push_str("</text>");
    }
    close(out)
}

/// Horizontal bars, `width` × `height` pixels, one per item: its label,
/// its value (the bar's length, relative to the largest) and the value as
/// shown at the bar's end.
pub(crate) fn bars(
    width: u32,
    height: u32,
    color: &str,
    items: &[(String, f64, String)],
) -> String {
    let mut out = open(width, height);
    let (label_w, value_w, top) = (170.0, 70.0, 8.0);
    let plot_w = f64::from(width) - label_w - value_w;
    let row_h = ((f64::from(height) - top * 2.0) / items.len().max(1) as f64).min(24.0);
    let max = items
        .iter()
        .map(|i| i.1)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    if items.is_empty() || max <= 0.0 {
        empty(&mut out, width, height);
        return close(out);
    }
    for (i, (label, value, shown)) in items.iter().enumerate() {
        let y = top + row_h * i as f64;
        let middle = y + row_h / 2.0 + 4.0;
        let _ = write!(out, "<text {FONT} text-anchor=\"end\" x=\"");
        num(&mut out, label_w - 6.0);
        out.push_str("\" y=\"");
        num(&mut out, middle);
        out.push_str("\">");
        text(&mut out, label, LABEL_CAP);
        out.push_str("</text>");
        let len = if value.is_finite() && *value > 0.0 {
            (plot_w * value / max).max(1.0)
        } else {
            0.0
        };
        rect(&mut out, label_w, y + row_h * 0.15, len, row_h * 0.7, color);
        let _ = write!(out, "<text {FONT} x=\"");
        num(&mut out, label_w + len + 4.0);
        out.push_str("\" y=\"");
        num(&mut out, middle);
        out.push_str("\">");
        text(&mut out, shown, 20);
        out.push_str("</text>");
    }
    close(out)
}

fn open(width: u32, height: u32) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\">"
    )
}

fn close(mut out: String) -> String {
    out.push_str("</svg>");
    out
}

fn rect(out: &mut String, x: f64, y: f64, w: f64, h: f64, color: &str) {
    out.push_str("<rect x=\"");
    num(out, x);
    out.push_str("\" y=\"");
    num(out, y);
    out.push_str("\" width=\"");
    num(out, w);
    out.push_str("\" height=\"");
    num(out, h);
    out.push_str("\" fill=\"");
    text(out, color, 16);
    out.push_str("\"/>");
}

fn empty(out: &mut String, width: u32, height: u32) {
    let _ = write!(
        out,
        "<text {FONT} text-anchor=\"middle\" x=\"{}\" y=\"{}\">no records</text>",
        width / 2,
        height / 2
    );
}

fn legend(out: &mut String, series: &[Series<'_>], left: f64) {
    let mut x = left;
    for s in series {
        rect(out, x, 6.0, 10.0, 10.0, s.color);
        let _ = write!(out, "<text {FONT} x=\"");
        num(out, x + 14.0);
        out.push_str("\" y=\"15\">");
        text(out, s.name, LABEL_CAP);
        out.push_str("</text>");
        x += 24.0 + 7.0 * s.name.chars().count().min(LABEL_CAP) as f64;
    }
}

/// The value axis: a base line and the maximum.
fn axis(out: &mut String, left: f64, top: f64, plot_w: f64, plot_h: f64, max: u64) {
    rect(out, left, top + plot_h, plot_w, 1.0, "#999999");
    let _ = write!(out, "<text {FONT} text-anchor=\"end\" x=\"");
    num(out, left - 4.0);
    out.push_str("\" y=\"");
    num(out, top + 8.0);
    let _ = write!(out, "\">{max}</text>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let svg = bars(
            300,
            100,
            "#ff0000",
            &[("<script>x</script>".into(), 1.0, "1".into())],
        );
        assert!(svg.contains("&lt;script&gt;x&lt;/script&gt;"), "{svg}");
        assert!(!svg.contains("<script"), "{svg}");
    }

    #[test]
    fn bars_are_as_long_as_their_values() {
        let svg = bars(
            440,
            100,
            "#00ff00",
            &[("a".into(), 2.0, "2".into()), ("b".into(), 1.0, "1".into())],
        );
        // 440 - 170 - 70 = 200 pixels for the largest value.
        assert!(svg.contains("width=\"200\""), "{svg}");
        assert!(svg.contains("width=\"100\""), "{svg}");
    }

    #[test]
    fn stacked_columns_reach_the_top_for_the_largest() {
        let series = [
            Series {
                name: "a",
                color: "#111111",
            },
            Series {
                name: "b",
                color: "#222222",
            },
        ];
        let svg = columns(
            200,
            100,
            &series,
            &["t0".into(), "t1".into()],
            &[vec![1, 1], vec![1, 0]],
        );
        // plot height 100 - 24 - 28 = 48: the first column is two bars of 24.
        assert_eq!(svg.matches("height=\"24\"").count(), 3, "{svg}");
        assert!(svg.contains(">t0<") && svg.contains(">t1<"), "{svg}");
    }

    #[test]
    fn nothing_to_draw_says_so() {
        assert!(bars(100, 100, "#000000", &[]).contains("no records"));
        assert!(columns(100, 100, &[], &[], &[]).contains("no records"));
    }
}
