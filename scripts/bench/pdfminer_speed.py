"""pdfminer.six's `extract_text` (the original system's extractor) on the same PDFs as
`server/benches/extract.rs`: per file the pages and the median of `--repeats` runs, overall
pages per second (total pages / total of the medians), and pages per CPU second (every run's
pages / the process's CPU time over all runs: less disturbed by other work on the machine).
Prints one JSON object."""

import argparse
import json
import pathlib
import time

from pdfminer.high_level import extract_text
from pdfminer.pdfpage import PDFPage


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    root = pathlib.Path(args.root)
    files = sorted((root / "quality/corpus").glob("*.pdf"))
    files += [root / "generator/tests/fixtures" / n for n in ("lecture.pdf", "short.pdf")]
    rows, pages_total, seconds_total = [], 0, 0.0
    cpu0, pages_run = time.process_time(), 0
    for path in files:
        with open(path, "rb") as f:
            pages = sum(1 for _ in PDFPage.get_pages(f))
        times = []
        for _ in range(max(1, args.repeats)):
            t = time.perf_counter()
            extract_text(str(path))
            times.append(time.perf_counter() - t)
            pages_run += pages
        times.sort()
        median = times[len(times) // 2]
        pages_total += pages
        seconds_total += median
        rows.append({
            "file": path.name,
            "bytes": path.stat().st_size,
            "pages": pages,
            "median_ms": round(median * 1000, 2),
            "pages_per_second": round(pages / median, 1),
        })
    import pdfminer

    print(json.dumps({
        "extractor": f"pdfminer.six {pdfminer.__version__} extract_text",
        "repeats": args.repeats,
        "files": rows,
        "pages": pages_total,
        "seconds": round(seconds_total, 4),
        "pages_per_second": round(pages_total / seconds_total, 1),
        "pages_per_cpu_second": round(pages_run / (time.process_time() - cpu0), 1),
    }))


if __name__ == "__main__":
    main()
