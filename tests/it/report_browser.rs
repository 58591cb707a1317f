//! `cartkin report DIR` on a real fit of the bundled data: the page is self-contained
//! (no script, no style sheet or image from elsewhere, every plot inline), and a real
//! headless Chromium renders it without console messages into a screenshot that is not
//! blank, with the key elements in its DOM.
//!
//! Chromium is found through the `CHROMIUM` environment variable, else `chromium` or
//! `chromium-browser` on the PATH. Without it the browser part prints SKIPPED and
//! passes, unless `CARTKIN_REQUIRE_BROWSER=1` (set by `.ci/run`), which makes a missing
//! browser a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::figures::assert_png;
use crate::common::{cartkin_in, repo_file};

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = cartkin_in(dir, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A fit of the bundled data with its plots and report; returns (tmp, fit dir).
fn fitted_report() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = repo_file("data/example.csv");
    ok(
        tmp.path(),
        &[
            "fit",
            data.to_str().unwrap(),
            "--model",
            "stein2019",
            "--seed",
            "11",
            "--threads",
            "1",
            "--out",
            "fit",
        ],
    );
    ok(tmp.path(), &["report", "fit"]);
    let dir = tmp.path().join("fit");
    (tmp, dir)
}

#[test]
fn report_is_self_contained_and_never_overwritten_without_force() {
    let (tmp, dir) = fitted_report();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let svgs = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".svg")
        })
        .count();
    assert!(svgs >= 5);
    assert_eq!(html.matches("<figure class=\"plot\"><svg").count(), svgs);
    for id in ["title", "summary", "parameters", "plots", "warnings"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "section {id}");
    }
    // provenance from run.json: the data's hash and the model's
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert!(html.contains(run["inputs"]["data"]["sha256"].as_str().unwrap()));
    assert!(html.contains(run["model"]["sha256"].as_str().unwrap()));
    // parameter table: every parameter of parameters.csv is a row
    assert!(html.contains("<td class=\"k\">foldx</td>"));
    assert!(html.contains("rse_pct"));
    // the non-converged subjects are listed as warnings
    assert!(html.contains("not_converged") || html.contains("hessian_not_pd"));
    // nothing from the network or another file
    for bad in [
        "<script",
        "<link",
        "<img",
        "src=\"http",
        "href=\"http",
        "@import",
        "url(",
    ] {
        assert!(!html.contains(bad), "report.html contains {bad}");
    }
    // never overwritten without --force
    let o = cartkin_in(tmp.path(), &["report", "fit"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    ok(tmp.path(), &["report", "fit", "--force"]);
    // a directory that is not a result directory is an input error
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    let o = cartkin_in(tmp.path(), &["report", "empty"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no run.json"));
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| [d.join("chromium"), d.join("chromium-browser")])
        .find(|p| p.is_file())
}

/// Run headless Chromium with `extra` arguments on `url`; returns (stdout, stderr).
/// A fresh profile directory, no network services, and a generous guard against a hung
/// browser (not a speed check).
fn headless(browser: &Path, profile: &Path, extra: &[String], url: &str) -> (String, String) {
    let out_dir = tempfile::tempdir().unwrap();
    let (so, se) = (out_dir.path().join("out"), out_dir.path().join("err"));
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&so).unwrap())
        .stderr(std::fs::File::create(&se).unwrap())
        .spawn()
        .expect("chromium starts");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            panic!("chromium did not finish within 300 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (
        std::fs::read_to_string(so).unwrap_or_default(),
        std::fs::read_to_string(se).unwrap_or_default(),
    )
}

/// Console output of the page in Chromium's log: any console message (the page has no
/// script, so a message means an error such as a blocked resource) or an uncaught error.
fn console_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught") || l.contains("console error"))
        .collect()
}

#[test]
fn report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        let required = std::env::var("CARTKIN_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "CARTKIN_REQUIRE_BROWSER=1 but no chromium (set CHROMIUM or install chromium)"
        );
        eprintln!(
            "SKIPPED report_renders_in_headless_chromium: no chromium on PATH and CHROMIUM unset"
        );
        return;
    };
    let (_tmp, dir) = fitted_report();
    let url = format!("file://{}", dir.join("report.html").display());
    let shots = tempfile::tempdir().unwrap();
    let shot = shots.path().join("report.png");
    let profile = tempfile::tempdir().unwrap();
    let (_, log) = headless(
        &browser,
        profile.path(),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".into(),
        ],
        &url,
    );
    assert!(shot.exists(), "no screenshot; chromium said:\n{log}");
    let (w, h) = assert_png(&shot);
    assert_eq!((w, h), (1280, 2000));
    assert!(
        console_lines(&log).is_empty(),
        "console: {:?}",
        console_lines(&log)
    );

    let profile = tempfile::tempdir().unwrap();
    let (dom, log) = headless(&browser, profile.path(), &["--dump-dom".into()], &url);
    assert!(
        console_lines(&log).is_empty(),
        "console: {:?}",
        console_lines(&log)
    );
    for needle in [
        "id=\"title\"",
        "id=\"summary\"",
        "id=\"parameters\"",
        "id=\"plots\"",
        "id=\"warnings\"",
        "<svg",
        "fit_gof_transgene.svg",
        ">foldx<",
    ] {
        assert!(dom.contains(needle), "DOM lacks {needle}");
    }
}
