//! The HTML report in a real browser: headless Chromium opens the page
//! made from records the crate wrote (hostile ones included) without a
//! console message (a script run, a blocked fetch and a broken page all
//! log one), and its screenshot shows every chart drawn.
//!
//! Chromium is not on a fresh machine: `.ci/run` installs the Debian
//! package and runs this test with `--ignored`.
#![cfg(all(feature = "cli", feature = "http"))]

mod common;
mod report_support;

use std::path::Path;
use std::process::Command;

use tracing_audit::cli::report;
use tracing_audit::cli::stats::Stats;

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 1100;

/// Each chart's colour (see `cli::report`): the time chart's four kinds,
/// then top users, top models, failed logins by IP, slowest paths.
const CHARTS: [(&str, [u8; 3]); 8] = [
    ("over-time AUDIT", [0x7b, 0x3f, 0xa0]),
    ("over-time API", [0x2f, 0x6f, 0xd0]),
    ("over-time LOGIN", [0x1f, 0x9e, 0x89]),
    ("over-time APP", [0x9a, 0x9a, 0x9a]),
    ("top-users", [0xe0, 0x7b, 0x00]),
    ("top-models", [0xc2, 0x3b, 0x6b]),
    ("failed-logins", [0xd6, 0x27, 0x28]),
    ("slowest-paths", [0x2c, 0xa0, 0x2c]),
];

/// Opens `page` in headless Chromium: the screenshot's pixels (RGB rows)
/// and the console messages it logged.
fn open_in_chromium(dir: &Path, page: &str) -> (Vec<u8>, Vec<String>) {
    let html = dir.join("page.html");
    let png = dir.join("shot.png");
    std::fs::write(&html, page).unwrap();
    let _ = std::fs::remove_file(&png);
    let output = Command::new("timeout")
        .arg("120")
        .arg("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--force-color-profile=srgb",
            "--force-device-scale-factor=1",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(png.exists(), "no screenshot; chromium said:\n{stderr}");
    let console: Vec<String> = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Refused to"))
        .map(str::to_owned)
        .collect();
    let decoder = png::Decoder::new(std::fs::File::open(&png).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let rgb = buf
        .chunks(channels)
        .flat_map(|px| px[..3].to_vec())
        .collect();
    (rgb, console)
}

fn pixels_of(rgb: &[u8], color: [u8; 3]) -> usize {
    rgb.chunks(3).filter(|px| *px == color).count()
}

#[test]
#[ignore = "needs chromium: .ci/run installs it and runs it"]
fn the_report_renders_its_charts_without_console_errors() {
    let dir = tempfile::tempdir().unwrap();

    // The detector works: a page that logs is caught, and a blank page
    // has none of the chart colours.
    let (blank, console) = open_in_chromium(
        dir.path(),
        "<!DOCTYPE html><body><script>console.error('control-marker')</script></body>",
    );
    assert!(
        console.iter().any(|l| l.contains("control-marker")),
        "the console check sees nothing: {console:?}"
    );
    for (chart, color) in CHARTS {
        assert_eq!(pixels_of(&blank, color), 0, "{chart} on a blank page");
    }

    let records = report_support::write(true);
    let mut stats = Stats::default();
    for r in &records {
        stats.add(r);
    }
    let page = report::html(&stats, "Audit report");
    assert!(
        !page.contains("<script"),
        "a record's markup reached the page"
    );
    assert!(!page.contains("<img"), "a record's markup reached the page");
    assert!(page.contains("&lt;script&gt;console.error(&#39;injected&#39;)&lt;/script&gt;"));

    let (shot, console) = open_in_chromium(dir.path(), &page);
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert_eq!(shot.len(), (WIDTH * HEIGHT * 3) as usize);
    for (chart, color) in CHARTS {
        let n = pixels_of(&shot, color);
        assert!(n >= 40, "{chart}: {n} pixels of {color:02x?}");
    }
}
