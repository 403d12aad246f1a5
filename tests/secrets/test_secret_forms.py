"""Keys outside ``api_key_env`` never persist (issue 9 item 11).

Seen: a key in ``api_base``'s query (``?api-key=``), in its userinfo (``user:key@``) or in
``params.extra_headers`` was written as-is to ``manifest.json``, and the userinfo form also
landed in ``cache.db``. Each run here goes over real HTTP to the simulator, then every byte
benchwork wrote (run store and cache) is searched for the key.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import benchwork as bw
from benchwork.cache import cache_key
from benchwork.errors import BenchworkError
from benchwork.sim import SimModel, SimServer

KEY = "sk-SENTINEL-5f3a9c1e77"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer([SimModel("m", ttft_s=0.0, itl_s=0.0, tokens=3)]) as server:
        yield server


@pytest.fixture(scope="module")
def keyed_sim() -> Iterator[SimServer]:
    """A sim that answers only requests carrying ``Authorization: Bearer KEY``."""
    with SimServer([SimModel("m", ttft_s=0.0, itl_s=0.0, tokens=3)], require_api_key=KEY) as s:
        yield s


def _suite() -> bw.Suite:
    return bw.Suite(name="s", cases=[bw.Case(id="a", input="hello"), bw.Case(id="b", input="bye")])


def _written(*dirs: Path) -> bytes:
    return b"".join(p.read_bytes() for d in dirs if d.exists() for p in d.rglob("*") if p.is_file())


def _with_userinfo(base: str) -> str:
    return base.replace("http://", f"http://user:{KEY}@")


@pytest.mark.parametrize("form", ["userinfo", "query"])
def test_a_key_in_api_base_is_never_written(sim: SimServer, tmp_path: Path, form: str) -> None:
    base = _with_userinfo(sim.base_url) if form == "userinfo" else f"{sim.base_url}?api-key={KEY}"
    home, cache = tmp_path / "home", tmp_path / "cache"
    run = bw.run_sync(_suite(), bw.Target("openai/m", api_base=base), home=home,
                      cache_dir=cache, progress=False)  # fmt: skip
    assert run.status == "finished" and run.counts["errors"] == 0, run.results["error_message"]
    assert KEY.encode() not in _written(home, cache)
    assert KEY not in repr(run.manifest)
    # and it is not part of the cache key: the same call with another key is a hit
    other = base.replace(KEY, "sk-another-key-000")
    again = bw.run_sync(_suite(), bw.Target("openai/m", api_base=other), home=home,
                        cache_dir=cache, progress=False)  # fmt: skip
    assert again.results["cached"].all()


def test_a_key_in_extra_headers_is_sent_but_never_written(
    keyed_sim: SimServer, tmp_path: Path
) -> None:
    target = bw.Target(
        "openai/m",
        api_base=keyed_sim.base_url,
        params={"extra_headers": {"Authorization": f"Bearer {KEY}", "X-Trace": "visible"}},
    )
    home, cache = tmp_path / "home", tmp_path / "cache"
    run = bw.run_sync(_suite(), target, home=home, cache_dir=cache, progress=False)
    assert run.counts["errors"] == 0, "the header reached the server (it demands the key)"
    assert KEY.encode() not in _written(home, cache)
    headers = run.manifest["targets"][0]["params"]["extra_headers"]
    assert headers == {"Authorization": "***", "X-Trace": "visible"}


def test_a_key_in_a_dotenv_file_is_used_and_never_copied(
    keyed_sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DOTENV_SIM_KEY", raising=False)
    (tmp_path / ".env").write_text(f"DOTENV_SIM_KEY={KEY}\n", encoding="utf-8")
    target = bw.Target("openai/m", api_base=keyed_sim.base_url, api_key_env="DOTENV_SIM_KEY")
    home, cache = tmp_path / "home", tmp_path / "cache"
    run = bw.run_sync(_suite(), target, home=home, cache_dir=cache, progress=False)
    assert run.counts["errors"] == 0, run.results["error_message"].to_list()
    assert "DOTENV_SIM_KEY" not in os.environ, "the .env value must not leak into the environment"
    assert KEY.encode() not in _written(home, cache)


def test_resume_asks_for_the_targets_when_their_key_was_not_stored(
    sim: SimServer, tmp_path: Path
) -> None:
    target = bw.Target("openai/m", api_base=_with_userinfo(sim.base_url))
    run = bw.run_sync(_suite(), target, home=tmp_path, progress=False)
    with pytest.raises(BenchworkError, match="never stored: pass the targets again"):
        bw.resume_sync(run.id, home=tmp_path, progress=False)
    again = bw.resume_sync(run.id, home=tmp_path, targets=[target], progress=False)
    assert again.status == "finished"


@pytest.mark.parametrize(
    ("with_key", "without"),
    [
        (f"http://u:{KEY}@h:8000/v1", "http://h:8000/v1"),
        (f"https://h/v1?api-key={KEY}&api-version=2024-06-01", "https://h/v1?api-key=x&api-version=2024-06-01"),
    ],
)  # fmt: skip
def test_cache_key_ignores_credentials_in_the_url(with_key: str, without: str) -> None:
    args = {
        "model": "openai/m",
        "messages": [{"role": "user", "content": "x"}],
        "params": {},
        "repeat": 0,
    }
    k1, comp = cache_key(api_base=with_key, **args)  # type: ignore[arg-type]
    k2, _ = cache_key(api_base=without, **args)  # type: ignore[arg-type]
    assert k1 == k2 and KEY not in repr(comp)
