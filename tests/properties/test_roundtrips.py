"""Property and fuzz tests that stay (issue 9 item 14): cache keys, api_base normalisation,
suite and results-frame round-trips, and every suite format fed arbitrary text.

Scorer properties live in tests/scoring/.
"""

from __future__ import annotations

import json
import string
from datetime import UTC

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import benchwork as bw
from benchwork.cache import cache_key, normalize_api_base
from benchwork.errors import SuiteError
from benchwork.results import CallRecord, records_to_frame
from benchwork.store._io import rows_to_records
from benchwork.suite._read import loads

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# plain JSON values, the only data a suite may hold
_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    _leaf,
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3)
    ),
    max_leaves=8,
)
_word = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=10)
_text = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != "")


# -- cache keys ----------------------------------------------------------------------------------
@SETTINGS
@given(params=st.dictionaries(st.sampled_from(["temperature", "top_p", "seed", "max_tokens", "stop"]),
                              json_values, max_size=4),
       content=st.text(max_size=50), repeat=st.integers(0, 5))  # fmt: skip
def test_cache_key_is_stable_and_order_free(params: dict, content: str, repeat: int) -> None:
    messages = [{"role": "user", "content": content}]
    args = {"model": "openai/m", "api_base": "http://h/v1", "messages": messages, "repeat": repeat}
    k1, comp = cache_key(params=params, **args)  # type: ignore[arg-type]
    k2, _ = cache_key(params=dict(reversed(list(params.items()))), **args)  # type: ignore[arg-type]
    assert k1 == k2 and len(k1) == 64
    assert json.loads(json.dumps(comp)) == comp  # components are plain JSON


@SETTINGS
@given(st.floats(-1e6, 1e6, allow_nan=False).filter(float.is_integer))
def test_integral_floats_and_ints_give_one_key(x: float) -> None:
    args = {
        "model": "m",
        "api_base": None,
        "messages": [{"role": "user", "content": "q"}],
        "repeat": 0,
    }
    assert (
        cache_key(params={"temperature": x}, **args)[0]
        == cache_key(params={"temperature": int(x)}, **args)[0]
    )  # type: ignore[arg-type]


@SETTINGS
@given(st.text(max_size=60))
def test_normalize_api_base_never_raises_and_is_idempotent(url: str) -> None:
    once = normalize_api_base(url)
    assert normalize_api_base(once) == once


@SETTINGS
@given(user=_word, key=_word, host=st.sampled_from(["h", "127.0.0.1", "api.example.com"]),
       port=st.integers(1, 65535))  # fmt: skip
def test_normalized_api_base_holds_no_userinfo(user: str, key: str, host: str, port: int) -> None:
    url = normalize_api_base(f"HTTP://{user}:{key}@{host}:{port}/v1/")
    assert (
        url is not None and "@" not in url and url.startswith("http://") and not url.endswith("/")
    )


# -- suites ----------------------------------------------------------------------------------------
@st.composite
def suites(draw: st.DrawFn, csv_safe: bool = False) -> bw.Suite:
    ids = draw(st.lists(_word, min_size=1, max_size=5, unique=True))
    cases = []
    for cid in ids:
        if csv_safe:  # CSV holds text: strings only, no vars/metadata beyond text columns
            case = bw.Case(id=cid, input=draw(_text.filter(lambda s: s == s.strip())),
                           expected=draw(st.none() | _text.filter(lambda s: s == s.strip())),
                           tags=draw(st.lists(_word, max_size=3, unique=True)))  # fmt: skip
        else:
            case = bw.Case(
                id=cid,
                input=draw(_text),
                expected=draw(json_values),
                tags=draw(st.lists(_word, max_size=3, unique=True)),
                vars=draw(st.dictionaries(_word.filter(lambda k: k != "input"), json_values, max_size=2)),
                metadata=draw(st.dictionaries(_word, json_values, max_size=2)),
            )  # fmt: skip
        cases.append(case)
    return bw.Suite(name=draw(_word), cases=cases, system=draw(st.none() | _text))


@pytest.mark.parametrize("ext", ["yaml", "json", "jsonl"])
@SETTINGS
@given(suite=suites())
def test_suite_round_trips_through_every_format(
    tmp_path_factory, ext: str, suite: bw.Suite
) -> None:
    if ext == "jsonl" and suite.system is not None:
        suite = bw.Suite(name=suite.name, cases=suite.cases)  # JSONL holds cases only
    path = tmp_path_factory.mktemp("s") / f"{suite.name}.{ext}"
    suite.save(path)
    back = bw.Suite.load(path)
    assert back.to_dict() == suite.to_dict() and back.hash == suite.hash


@SETTINGS
@given(suite=suites(csv_safe=True))
def test_text_only_suite_round_trips_through_csv(tmp_path_factory, suite: bw.Suite) -> None:
    suite = bw.Suite(name=suite.name, cases=suite.cases)
    path = tmp_path_factory.mktemp("s") / f"{suite.name}.csv"
    suite.save(path)
    assert bw.Suite.load(path).hash == suite.hash


@pytest.mark.parametrize("fmt", ["yaml", "json", "jsonl", "csv"])
@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_in_any_format_loads_or_names_where_it_fails(fmt: str, text: str) -> None:
    """Fuzz: never a traceback; every error names the file and a line, or a case and field."""
    try:
        suite = loads(text, source=f"fuzz.{fmt}", fmt=fmt, make=bw.Suite)
    except SuiteError as e:
        assert e.source == f"fuzz.{fmt}"
        whole_file = "empty" in e.reason or "no cases" in e.reason  # nowhere more precise
        assert whole_file or e.line is not None or e.field is not None or e.case_id, str(e)
    else:
        assert len(suite) >= 1


# -- results ---------------------------------------------------------------------------------------
_opt_float = st.none() | st.floats(0, 1e4, allow_nan=False)
records = st.builds(
    CallRecord,
    run_id=_word,
    case_id=_word,
    target=_word,
    model=_word,
    repeat=st.integers(0, 3),
    status=st.sampled_from(["ok", "error"]),
    latency_s=_opt_float,
    ttft_s=_opt_float,
    input_tokens=st.none() | st.integers(0, 10**6),
    output_tokens=st.none() | st.integers(0, 10**6),
    cost_usd=_opt_float,
    output_text=st.none() | st.text(max_size=30),
    started_at=st.none() | st.datetimes(timezones=st.just(UTC)),
)


@SETTINGS
@given(st.lists(records, min_size=1, max_size=6))
def test_results_frame_round_trips_to_records(recs: list[CallRecord]) -> None:
    frame = records_to_frame(recs)
    back = [CallRecord.from_dict(row).to_dict() | {"started_at": CallRecord.from_dict(row).started_at}
            for row in rows_to_records(frame)]  # fmt: skip
    fields = ("case_id", "target", "repeat", "status", "latency_s", "input_tokens", "cost_usd",
              "output_text", "started_at")  # fmt: skip
    assert [{f: r[f] for f in fields} for r in back] == [
        {f: getattr(r, f) for f in fields} for r in recs
    ]
    assert frame.height == len(recs)
    # started_at: a datetime in the record and in the frame, ISO text only in JSON
    assert frame["started_at"].to_list() == [r.started_at for r in recs]
    assert [CallRecord.from_dict(r.to_dict()).started_at for r in recs] == [
        r.started_at for r in recs
    ]


# -- scores: one form (the record's dict), one codec to and from the wide columns ------------------
_names = st.text(string.ascii_lowercase + "_", min_size=1, max_size=12).filter(
    lambda n: not n.endswith(("_explanation", "_cost_usd", "_agreement"))
)
_value = st.none() | st.floats(-10, 10, allow_nan=False)
_dict_score = st.fixed_dictionaries(
    {"value": _value, "explanation": st.none() | st.text(max_size=20)},
    optional={
        "cost_usd": st.floats(0, 1, allow_nan=False),
        "meta": st.fixed_dictionaries({"agreement": st.floats(0, 1, allow_nan=False)}),
    },
)
_scores = st.dictionaries(_names, _value | _dict_score, max_size=4)


def _canonical(rows: list[dict], explaining: set[str]) -> list[dict]:
    """What the wide view can say: a scorer that explains itself anywhere is a dict everywhere."""
    out = []
    for scores in rows:
        row = {}
        for name, s in scores.items():
            if isinstance(s, dict):
                keep = {"value": s["value"], "explanation": s["explanation"]}
                keep |= {k: s[k] for k in ("cost_usd", "meta") if k in s}
                if s["value"] is None and s["explanation"] is None and len(keep) == 2:
                    continue  # nothing to say: no row at all
                row[name] = keep
            elif s is None:
                continue
            elif name in explaining:
                row[name] = {"value": s, "explanation": None}
            else:
                row[name] = s
        out.append(row)
    return out


@SETTINGS
@given(st.lists(_scores, min_size=1, max_size=5))
def test_scores_fold_back_exactly_from_the_wide_frame(rows: list[dict]) -> None:
    from benchwork.results import score_names, score_value_columns

    recs = [
        CallRecord(run_id="r", case_id=f"c{i}", target="t", model="m", scores=s)
        for i, s in enumerate(rows)
    ]
    frame = records_to_frame(recs)
    explaining = {n for s in rows for n, v in s.items() if isinstance(v, dict)}
    assert [r["scores"] for r in rows_to_records(frame)] == _canonical(rows, explaining)
    # the column rule lives in one place: every scorer seen has exactly one value column
    seen = list(dict.fromkeys(n for s in rows for n in s))
    assert score_names(frame.columns) == seen
    assert score_value_columns(frame.columns) == [f"score_{n}" for n in seen]


@pytest.mark.parametrize("bad", ["judge_explanation", "x_agreement", "price_cost_usd", ""])
def test_a_scorer_name_that_would_clash_with_a_score_field_is_refused(bad: str) -> None:
    from benchwork.errors import BenchworkError
    from benchwork.scoring import resolve_scorers

    with pytest.raises(BenchworkError, match=r"rename the scorer|non-empty"):
        resolve_scorers([{"type": "exact", "name": bad}])
