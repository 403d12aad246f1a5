from benchwork._util.redact import Redactor

SECRET = "sk-test-SENTINEL-0123456789"


def test_empty_redactor_is_falsy_and_returns_input_untouched():
    r = Redactor()
    assert not r
    obj = {"a": ["x", {"b": "y"}]}
    assert r.scrub_obj(obj) is obj
    assert r.scrub("text") == "text"


def test_ignores_none_empty_and_short_values():
    r = Redactor()
    for value in (None, "", "abc", "12345"):
        r.add(value)
    assert not r
    r.add("123456")
    assert r and len(r) == 1


def test_scrub_replaces_every_occurrence():
    r = Redactor([SECRET])
    text = f"401: bad key {SECRET}; header Bearer {SECRET}."
    assert r.scrub(text) == "401: bad key ***; header Bearer ***."


def test_longer_secret_masked_whole_when_it_contains_a_shorter_one():
    r = Redactor(["abcdef", "abcdefghijkl"])
    assert r.scrub("x abcdefghijkl y abcdef") == "x *** y ***"


def test_scrub_obj_recurses_into_dicts_lists_tuples_and_keys():
    r = Redactor([SECRET])
    obj = {"msg": [f"a {SECRET}", ("t", SECRET)], SECRET: {"n": 1, "s": SECRET}, "none": None}
    out = r.scrub_obj(obj)
    assert SECRET not in repr(out)
    assert out["msg"] == ["a ***", ["t", "***"]]
    assert out["***"] == {"n": 1, "s": "***"}
    assert out["none"] is None


def test_from_env_names_reads_values(monkeypatch):
    monkeypatch.setenv("BW_TEST_KEY", SECRET)
    monkeypatch.delenv("BW_TEST_MISSING", raising=False)
    r = Redactor.from_env_names(["BW_TEST_KEY", "BW_TEST_MISSING"])
    assert len(r) == 1
    assert r.scrub(SECRET) == "***"
    assert SECRET not in repr(r)
