//! Extraction speed: numbers, not assertions.
//!
//! Reads every PDF of `quality/corpus/` and the text-bearing test fixtures
//! (`generator/tests/fixtures/{lecture,short}.pdf`) with the generator's reader,
//! `exam_generator::extract_pages` (pdf-extract over lopdf, then the repair pass: what
//! generation uses, in-process, without the isolating child), `BENCH_EXTRACT_REPEATS` times
//! each (default 5), and reports per file the pages and the median time, and overall pages per
//! second (total pages / total of the medians) and per CPU second (every run's pages / the
//! process's CPU time over all runs: less disturbed by other work on the machine). Written to `target/bench/extract.json`;
//! `scripts/bench/run.py` sets pdfminer.six beside it.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde_json::json;

fn pdfs(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("quality/corpus"))
        .context("quality/corpus")?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    files.sort();
    for name in ["lecture.pdf", "short.pdf"] {
        files.push(root.join("generator/tests/fixtures").join(name));
    }
    Ok(files)
}

fn main() -> anyhow::Result<()> {
    let repeats: usize = std::env::var("BENCH_EXTRACT_REPEATS").ok().and_then(|v| v.parse().ok()).unwrap_or(5).max(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut rows = Vec::new();
    let (mut pages_total, mut seconds_total, mut pages_run) = (0usize, 0.0f64, 0usize);
    let cpu0 = common::cpu_ms(std::process::id());
    for path in pdfs(&root)? {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let mut times = Vec::with_capacity(repeats);
        let mut pages = 0;
        for _ in 0..repeats {
            let t = Instant::now();
            let doc = exam_generator::extract_pages(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            times.push(t.elapsed().as_secs_f64());
            pages = doc.pages.len();
            pages_run += pages;
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        pages_total += pages;
        seconds_total += median;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        rows.push(json!({
            "file": name,
            "bytes": bytes.len(),
            "pages": pages,
            "median_ms": (median * 1e5).round() / 100.0,
            "pages_per_second": (pages as f64 / median * 10.0).round() / 10.0,
        }));
    }
    let report = json!({
        "extractor": "exam_generator::extract_pages (pdf-extract + repair)",
        "repeats": repeats,
        "files": rows,
        "pages": pages_total,
        "seconds": (seconds_total * 1e4).round() / 1e4,
        "pages_per_second": common::round1(pages_total as f64 / seconds_total),
        "pages_per_cpu_second": common::round1(pages_run as f64 * 1000.0 / (common::cpu_ms(std::process::id()) - cpu0).max(1.0)),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("extract.json"), serde_json::to_vec_pretty(&report)?)?;
    Ok(())
}
