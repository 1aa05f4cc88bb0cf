//! Text from records into HTML and SVG: every value a record holds is
//! attacker-controlled (a user id can be `<script>…`), so each one goes
//! through [`text`] before it reaches the page, as element content or as
//! an attribute value.

use std::fmt::Write as _;

/// Appends `s`, cut to `cap` characters (then `…`), escaped for HTML and
/// SVG text and quoted attributes: `&`, `<`, `>`, `"` and `'` as
/// character references, control characters (other than none) as
/// U+FFFD, so no value can open a tag, close an attribute or start an
/// entity.
pub(crate) fn text(out: &mut String, s: &str, cap: usize) {
    for (n, c) in s.chars().enumerate() {
        if n == cap {
            out.push('…');
            return;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// [`text`] into a new string.
pub(crate) fn escaped(s: &str, cap: usize) -> String {
    let mut out = String::with_capacity(s.len());
    text(&mut out, s, cap);
    out
}

/// A number for SVG coordinates: at most two decimals, never NaN.
pub(crate) fn num(out: &mut String, v: f64) {
    let v = if v.is_finite() { v } else { 0.0 };
    let _ = write!(out, "{}", (v * 100.0).round() / 100.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_cannot_escape_their_context() {
        let hostile = "<script>alert(\"x\")</script>' onload='x' &amp; \u{0}\u{1b}";
        let out = escaped(hostile, 1000);
        assert_eq!(
            out,
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&#39;x&#39; &amp;amp; \u{FFFD}\u{FFFD}"
        );
        for c in ['<', '>', '"', '\'', '\u{0}'] {
            assert!(!out.contains(c), "{c:?} in {out}");
        }
    }

    #[test]
    fn long_values_are_cut_before_escaping_grows_them() {
        assert_eq!(escaped("<<<<", 2), "&lt;&lt;…");
        assert_eq!(escaped("ééé", 3), "ééé");
    }

    #[test]
    fn numbers_are_finite() {
        let mut out = String::new();
        for v in [f64::NAN, f64::INFINITY, 1.234_56, -0.5] {
            num(&mut out, v);
            out.push(' ');
        }
        assert_eq!(out, "0 0 1.23 -0.5 ");
    }
}
