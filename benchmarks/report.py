"""Report rendering time for a 10,000-row run (target: <= 10 s), against a baseline in the same
run: papermill executing an empty notebook (kernel start-up and papermill's own cost).

    python benchmarks/report.py [--rows 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import env_for_bench, sim_process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    env_for_bench()
    import nbformat
    import papermill

    import benchwork as bw
    from benchwork.reports import report

    targets_n = 5
    cases = args.rows // targets_n
    suite = bw.Suite.from_records(
        [{"id": f"c{i}", "input": f"question {i}", "expected": "x"} for i in range(cases)],
        name="big",
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        sim_process(
            [{"name": f"m{i}", "ttft_s": 0.0, "itl_s": 0.0, "tokens": 3} for i in range(targets_n)]
        ) as base,
    ):
        targets = [
            bw.Target(f"openai/m{i}", api_base=base, concurrency=32) for i in range(targets_n)
        ]
        t0 = time.perf_counter()
        run = bw.run_sync(suite, targets, cache="off", home=tmp, progress=False)
        made = time.perf_counter() - t0
        empty = Path(tmp) / "empty.ipynb"
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), empty)
        t0 = time.perf_counter()
        papermill.execute_notebook(str(empty), str(Path(tmp) / "e-out.ipynb"), kernel_name="python3",
                                   progress_bar=False)  # fmt: skip
        baseline = time.perf_counter() - t0
        timings = {}
        for template in ("leaderboard", "comparison", "speed"):
            t0 = time.perf_counter()
            report(template, Path(tmp) / f"{template}.ipynb", html=True, run_ids=[run.id], home=tmp)
            timings[template] = time.perf_counter() - t0
    print(f"run of {run.results.height:,} rows made in {made:.1f} s")
    print(f"baseline: papermill on an empty notebook {baseline:.2f} s")
    for template, seconds in timings.items():
        print(
            f"{template:<12} report + HTML: {seconds:.2f} s ({seconds / baseline:.1f}x baseline; target <= 10 s)"
        )


if __name__ == "__main__":
    main()
