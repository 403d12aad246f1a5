import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import benchwork.cache._cache as cache_mod
from benchwork._util.redact import Redactor
from benchwork.cache import CallCache, cache_key, check_mode, normalize_api_base
from benchwork.errors import BenchworkError

SECRET = "sk-live-SENTINEL-9f8e7d6c5b4a"

BASE = dict(
    model="openai/gpt-4o-mini",
    api_base="http://127.0.0.1:8000/v1",
    messages=[{"role": "user", "content": "What is 2+2?"}],
    params={"temperature": 0.0, "max_tokens": 64},
    repeat=0,
)


def key(**changes):
    return cache_key(**{**BASE, **changes})


def record(case_id="q1", target="t", **extra):
    rec = dict(
        run_id="run-1",
        case_id=case_id,
        target=target,
        model="openai/gpt-4o-mini",
        status="ok",
        latency_s=0.25,
        ttft_s=0.05,
        output_text="4",
        cached=False,
        scores={"exact": 1.0},
    )
    rec.update(extra)
    return rec


@pytest.fixture
def cache(tmp_path):
    with CallCache(tmp_path / "c") as c:
        yield c


# -- key ------------------------------------------------------------------------------------


def test_non_output_settings_do_not_change_the_key():
    k0, _ = key()
    noisy = {
        **BASE["params"],
        "api_key": "sk-x",
        "timeout": 30,
        "num_retries": 3,
        "concurrency": 8,
        "stream_options": {"include_usage": True},
        "some_unknown": 1,
        "seed": None,
    }
    k1, comp1 = key(params=noisy)
    assert k0 == k1
    assert comp1["params"] == {"temperature": 0.0, "max_tokens": 64}
    assert "api_key" not in json.dumps(comp1)


@pytest.mark.parametrize(
    "changes",
    [
        {"params": {"temperature": 0.7, "max_tokens": 64}},
        {"messages": [{"role": "user", "content": "What is 2+3?"}]},
        {"api_base": "http://127.0.0.1:8001/v1"},
        {"model": "openai/gpt-4o"},
        {"tools": [{"type": "function", "function": {"name": "f"}}]},
        {"tool_choice": "required"},
        {"response_format": {"type": "json_object"}},
        {"repeat": 1},
    ],
)
def test_output_inputs_change_the_key(changes):
    assert key(**changes)[0] != key()[0]


def test_dict_order_and_int_float_spelling_do_not_matter():
    a = key(
        params={"max_tokens": 64, "temperature": 0},
        messages=[{"content": "What is 2+2?", "role": "user"}],
    )
    assert a[0] == key()[0]


def test_normalize_api_base():
    assert normalize_api_base("HTTP://LocalHost:80/v1/") == "http://localhost/v1"
    assert normalize_api_base("https://api.example.com:443/") == "https://api.example.com"
    assert normalize_api_base("http://localhost:8000/v1") != normalize_api_base(
        "http://127.0.0.1:8000/v1"
    )
    assert normalize_api_base(None) is None
    assert normalize_api_base("  ") is None


def test_key_is_stable_across_processes():
    code = textwrap.dedent(
        """
        from benchwork.cache import cache_key
        print(cache_key(model="m", api_base="http://h:1/v1", repeat=2,
                        messages=[{"role": "user", "content": "héllo ✓"}],
                        params={"temperature": 0.5, "stop": ["\\n"], "seed": 7},
                        tools=[{"type": "function", "function": {"name": "f", "parameters": {"b": 1, "a": 2}}}])[0])
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
    ).stdout.strip()
    mine = cache_key(
        model="m",
        api_base="http://h:1/v1",
        repeat=2,
        messages=[{"role": "user", "content": "héllo ✓"}],
        params={"seed": 7, "stop": ["\n"], "temperature": 0.5},
        tools=[{"type": "function", "function": {"parameters": {"a": 2, "b": 1}, "name": "f"}}],
    )[0]
    assert out == mine


def test_check_mode():
    assert check_mode("replay") == "replay"
    with pytest.raises(BenchworkError, match="use one of"):
        check_mode("sometimes")


# -- store / fetch --------------------------------------------------------------------------


def test_put_get_round_trip_drops_run_fields(cache):
    k, comp = key()
    assert cache.get(k) is None
    cache.put(k, comp, record(), case_id="q1", target="t")
    got = cache.get(k)
    assert got["output_text"] == "4" and got["latency_s"] == 0.25
    assert not {"run_id", "scores", "cached"} & set(got)
    entry = cache.entry(k)
    assert entry["components"] == comp and entry["case_id"] == "q1" and entry["target"] == "t"
    assert k in cache and len(cache) == 1


def test_errors_are_not_cached(cache):
    k, comp = key()
    cache.put(k, comp, record(status="error", error_message="boom"), case_id="q1", target="t")
    assert cache.get(k) is None
    assert len(cache) == 0


# -- why ------------------------------------------------------------------------------------


def test_why_names_the_changed_temperature(cache):
    k, comp = key()
    cache.put(k, comp, record(), case_id="q1", target="t")
    _, comp2 = key(params={"temperature": 0.7, "max_tokens": 64})
    why = cache.why(comp2, case_id="q1", target="t")
    assert not why.hit and why.nearest_key == k
    assert why.differences == [("params.temperature", 0.0, 0.7)]
    assert "params.temperature: stored 0.0, requested 0.7" in str(why)


def test_why_names_messages_after_a_prompt_change(cache):
    k, comp = key()
    cache.put(k, comp, record(), case_id="q1", target="t")
    _, comp2 = key(messages=[{"role": "user", "content": "What is 2+2? Think step by step."}])
    why = cache.why(comp2, case_id="q1", target="t")
    assert [d[0] for d in why.differences] == ["messages"]
    assert "messages[0].content" in str(why)


def test_why_on_a_hit_and_on_an_empty_cache(cache):
    k, comp = key()
    assert (
        str(cache.why(comp, case_id="q7", target="x"))
        == "no stored entry for case 'q7' on target 'x'"
    )
    cache.put(k, comp, record(), case_id="q7", target="x")
    assert cache.why(comp, case_id="q7", target="x").hit


def test_why_falls_back_to_the_same_case_on_another_target(cache):
    k, comp = key()
    cache.put(k, comp, record(), case_id="q1", target="old-name")
    _, comp2 = key(api_base="http://127.0.0.1:9000/v1")
    why = cache.why(comp2, case_id="q1", target="new-name")
    assert why.nearest_key == k and why.nearest_target == "old-name"
    assert [d[0] for d in why.differences] == ["api_base"]


def test_why_exclude_leaves_the_calls_own_entry_out(cache):
    k_old, comp_old = key()
    cache.put(k_old, comp_old, record(), case_id="q1", target="t")
    k_new, comp_new = key(params={"temperature": 0.2, "max_tokens": 64})
    cache.put(k_new, comp_new, record(), case_id="q1", target="t")  # written after it missed
    why = cache.why(comp_new, case_id="q1", target="t", exclude=k_new)
    assert not why.hit and why.nearest_key == k_old
    assert why.differences == [("params.temperature", 0.0, 0.2)]
    only = cache.why(comp_old, case_id="q9", target="t", exclude=k_old)
    assert only.nearest_key == k_new  # same target, other case: still a useful comparison


def test_why_scans_when_the_index_is_gone(cache):
    k, comp = key()
    cache.put(k, comp, record(), case_id="q1", target="t")
    cache._index.clear()
    _, comp2 = key(repeat=3)
    why = cache.why(comp2, case_id="q1", target="t")
    assert why.nearest_key == k and why.differences == [("repeat", 0, 3)]
    assert "repeat: stored 0, requested 3" in str(why)


# -- management -----------------------------------------------------------------------------


def test_stats_clear_prune(cache, monkeypatch):
    now = time.time()
    ages_days = [40, 40, 10, 1]
    for i, age in enumerate(ages_days):
        monkeypatch.setattr(cache_mod, "_now", lambda age=age: now - age * 86400)
        k, comp = key(repeat=i)
        cache.put(k, comp, record(), case_id="q1", target="t")
    monkeypatch.setattr(cache_mod, "_now", lambda: now)
    s = cache.stats()
    assert s["entries"] == 4 and s["size_bytes"] > 0 and s["directory"] == str(cache.directory)
    assert s["oldest"].timestamp() == pytest.approx(now - 40 * 86400)
    assert s["newest"].timestamp() == pytest.approx(now - 86400)
    assert cache.prune(30) == 2
    assert len(cache) == 2
    assert len(cache.index_keys("t", "q1")) == 2
    assert "entries=2" in repr(cache)
    assert cache.clear() == 2
    assert len(cache) == 0 and cache.stats()["oldest"] is None


def test_cache_dir_env_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHWORK_CACHE_DIR", str(tmp_path / "envcache"))
    with CallCache() as c:
        assert c.directory == tmp_path / "envcache"
        k, comp = key()
        c.put(k, comp, record(), case_id="q1", target="t")
    assert (tmp_path / "envcache" / "cache.db").exists()


def test_secret_never_reaches_cache_files(tmp_path):
    d = tmp_path / "c"
    with CallCache(d, redactor=Redactor([SECRET])) as c:
        k, comp = key(messages=[{"role": "user", "content": f"key is {SECRET}"}])
        big = "y" * 40_000 + SECRET  # large values go to separate files
        rec = record(output_text=f"echo {SECRET}", error_message=f"401 {SECRET}", finish_reason=big)
        c.put(k, comp, rec, case_id=f"q-{SECRET}", target="t")
        c.put("k2", comp, record(status="error", error_message=SECRET), case_id="q2", target="t")
        assert c.get(k)["output_text"] == "echo ***"
        c.why(comp, case_id=f"q-{SECRET}", target="t")
    files = [p for p in d.rglob("*") if p.is_file()]
    assert any(p.suffix == ".val" for p in files)
    for p in files:
        assert SECRET.encode() not in p.read_bytes(), p


# -- two processes at once (issue test e) -----------------------------------------------------

WORKER = """
import sys, time
from pathlib import Path
from benchwork.cache import CallCache, cache_key

d, me, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
while not go.exists():
    time.sleep(0.005)
with CallCache(d) as c:
    mine = []
    for i in range(500):
        case = f"q{i % 50}"
        repeat = me * 1000 + i
        k, comp = cache_key(model="m", api_base=None, messages=[{"role": "user", "content": case}],
                            params={"temperature": 0.0}, repeat=repeat)
        rec = {"case_id": case, "target": "t", "model": "m", "status": "ok", "repeat": repeat,
               "output_text": f"answer {me}-{i}"}
        c.put(k, comp, rec, case_id=case, target="t")
        mine.append((k, rec))
        if i % 5 == 0:  # read while the other process writes
            c.get(mine[i // 2][0])
    for k, rec in mine:
        assert c.get(k)["output_text"] == rec["output_text"], k
print("ok")
"""


def test_two_processes_share_one_cache(tmp_path):
    d, go = tmp_path / "shared", tmp_path / "go"
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(d), str(me), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in (1, 2)
    ]
    time.sleep(0.3)  # let both import and wait at the barrier
    go.touch()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "ok", err
    with CallCache(d) as c:
        assert len(c) == 1000
        for n in range(50):
            listed = set(c.index_keys("t", f"q{n}"))
            assert len(listed) == 20
            for k in listed:
                e = c.entry(k)
                assert e["case_id"] == f"q{n}" and e["record"]["output_text"].startswith("answer ")
        keys = {k for n in range(50) for k in c.index_keys("t", f"q{n}")}
        assert len(keys) == 1000


def test_cache_files_are_json_not_pickle(cache):
    k, comp = key()
    cache.put(k, comp, record(), case_id="q1", target="t")
    raw = cache._calls.get(k)
    assert isinstance(raw, str) and json.loads(raw)["record"]["output_text"] == "4"
    assert Path(cache.directory, "index").is_dir()
