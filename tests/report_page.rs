//! The report opens from the file system in headless Chromium (Debian's `chromium`): it
//! renders, every link resolves to a file, and a screenshot is kept as a test artifact
//! (`target/report-test/screenshot.png`). Skips with a message where Chromium is missing
//! (scripts/test installs it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use aerobench::criterion_results::write_run;
use aerobench::files::write_atomically;
use aerobench::meta::Fingerprint;
use aerobench::server_share::ServerShare;
use aerobench::site::waterfall::SERVER;
use aerobench::site::{Options, write};

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// Criterion-shaped results for every section: layers, the server's share, batch sizes, a
/// comparison, and the per-benchmark HTML page and flamegraph files the report links to.
fn fixture(root: &Path) -> PathBuf {
    let criterion = root.join("criterion");
    let mut ids: Vec<(String, f64, Option<u64>)> = [
        ("floor/tokio", 21_000.0),
        ("key/int/set", 310.0),
        ("rng/xoshiro256pp", 1.2),
        ("timer/multi_thread/sleep_reset", 95.0),
        ("single_op/async/get", 32_000.0),
    ]
    .iter()
    .map(|(id, ns)| (id.to_string(), *ns, None))
    .collect();
    for n in [1u64, 2, 4, 8, 16, 32, 64, 128] {
        ids.push((
            format!("batch/read/{n}"),
            25_000.0 + 180.0 * n as f64,
            Some(n),
        ));
    }
    for (id, ns, elements) in &ids {
        for (run, factor) in [("new", 1.0), ("A", 1.0), ("B", 1.3)] {
            write_run(&criterion, id, run, ns * factor, *elements).unwrap();
        }
        let dir = id.split('/').fold(criterion.clone(), |d, p| d.join(p));
        std::fs::create_dir_all(dir.join("report")).unwrap();
        std::fs::write(dir.join("report/index.html"), "<html>criterion page</html>").unwrap();
        std::fs::create_dir_all(dir.join("profile")).unwrap();
        std::fs::write(
            dir.join("profile/flamegraph.svg"),
            "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        )
        .unwrap();
    }
    let share = ServerShare {
        fingerprint: Fingerprint {
            target: "embedded".into(),
            ..Fingerprint::default()
        },
        gets: 1000,
        mean_ns: Some(3_500.0),
        bounds_ns: None,
        how: "timed by the server, every get".into(),
    };
    let share = serde_json::to_vec(&share).unwrap();
    write_atomically(&ServerShare::path(&criterion), &share).unwrap();
    criterion
}

/// Two `aerobench run` results, closed loop and open loop, and one `aerobench knee` result.
fn runs_and_knee(root: &Path) {
    let run = |rate: Option<u64>, p99: u64| {
        serde_json::json!({
            "knobs": {"mode": "async", "tasks": 8, "rate": rate, "batch_size": 1},
            "outcome": {
                "tps": 5000.0, "errors": 0, "timeouts": 0, "mismatches": 0,
                "latency_ns": {"p50": 50_000, "p99": p99, "p999": 2 * p99},
                "distribution": {"response": [[0.0, 20_000.0], [90.0, 70_000.0], [99.0, p99 as f64], [100.0, 3.0 * p99 as f64]]}
            },
            "seconds": [
                {"tps": 4900.0, "latency_ns": {"p99": p99}},
                {"tps": 5100.0, "latency_ns": {"p99": p99 + 5_000}}
            ]
        })
    };
    let knee = serde_json::json!({
        "sla": {"p99_ns": 1_000_000},
        "knee": {"ceiling": 9000.0, "held": 6000, "missed": 7000, "curve": [
            {"rate": 3000, "latency_ns": {"p50": 50_000, "p99": 120_000, "p999": 300_000}},
            {"rate": 6000, "latency_ns": {"p50": 60_000, "p99": 400_000, "p999": 900_000}},
            {"rate": 7000, "latency_ns": {"p50": 90_000, "p99": 3_000_000, "p999": 9_000_000}}
        ]}
    });
    for (path, doc) in [
        ("runs/a-closed.json", run(None, 100_000)),
        ("runs/b-open.json", run(Some(5000), 400_000)),
        ("knees/c-knee.json", knee),
    ] {
        write_atomically(&root.join(path), &serde_json::to_vec(&doc).unwrap()).unwrap();
    }
}

/// The values of every `attribute="…"` in `html`.
fn attributes(html: &str, attribute: &str) -> Vec<String> {
    html.split(&format!("{attribute}=\""))
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn report_renders_in_chromium_with_every_link_resolving() {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-test");
    let _ = std::fs::remove_dir_all(&root);
    let options = Options {
        criterion_dir: fixture(&root),
        runs_dir: root.join("runs"),
        out_dir: root.join("report"),
        compare: Some(("A".into(), "B".into())),
    };
    runs_and_knee(&root);
    let index = write(&options).unwrap();
    let html = std::fs::read_to_string(&index).unwrap();
    let images = attributes(&html, "src");
    for plot in [
        "plots/distribution.svg",
        "plots/a-closed.svg",
        "plots/b-open.svg",
        "plots/c-knee.svg",
    ] {
        assert!(images.iter().any(|i| i == plot), "{plot} in {images:?}");
    }
    for image in &images {
        let svg = std::fs::read_to_string(options.out_dir.join(image)).unwrap();
        assert!(svg.starts_with("<svg"), "{image} is an SVG");
    }
    assert!(
        html.contains("<td>6000/s</td><td>7000/s</td>"),
        "the knee's bracket"
    );
    let links = attributes(&html, "href");
    assert!(
        links.len() >= 20,
        "links to Criterion pages and flamegraphs: {links:?}"
    );
    for link in &links {
        assert!(
            options.out_dir.join(link).is_file(),
            "link {link} does not resolve"
        );
    }
    assert!(html.contains("regressed"), "B is 30% slower than A");
    // 32 µs get − 21 µs floor − 3.5 µs server − 310 + 1.2 + 95 ns of client layers.
    assert!(
        html.contains(&format!(
            "<td>{SERVER}</td><td>3.50 µs</td><td>24.50 µs</td>"
        )),
        "the measured server row above the floor"
    );
    assert!(
        html.contains("<td>encode/decode and the rest</td><td>7.09 µs</td>"),
        "the rest is the get minus the floor, the server and the client layers"
    );

    let Some(browser) = chromium() else {
        common::missing(
            "report page in Chromium",
            "no chromium on PATH; scripts/test installs it with `apt-get install chromium`",
        );
        return;
    };
    let url = format!("file://{}", index.display());
    let dom = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            &url,
        ])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("<table>") && dom.contains("Where one get") && dom.contains("Knees"),
        "Chromium rendered the page"
    );
    let screenshot = root.join("screenshot.png");
    let shot = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,1800",
        ])
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let png = std::fs::read(&screenshot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );
}
