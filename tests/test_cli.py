"""The command line: flags, JSON shapes and exit codes the issues name."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from newsearch.backends.whoosh.storage import WriteLock
from newsearch.cli import main

from .conftest import SAMPLE

INDEX_KEYS = {"added", "updated", "deleted", "unchanged", "duplicates", "documents", "seconds",
              "skipped"}
STATS_KEYS = {"documents", "sections", "date_min", "date_max", "undated", "index_bytes"}


def run(*args: str, env: dict[str, str] | None = None) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def index(tmp_path: Path) -> Path:
    return tmp_path / "ix"


def test_index_json_report_has_the_documented_fields(index: Path) -> None:
    res = run("index", str(SAMPLE), "--index", str(index), "--json", "--jobs", "1")
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report.keys() >= INDEX_KEYS
    assert report["added"] == report["documents"] > 20
    assert report["duplicates"] == 1  # corpus/html/cycle-lanes-copy.html.gz
    assert report["skipped"] == []


def test_stats_json(index: Path) -> None:
    run("index", str(SAMPLE), "--index", str(index), "--quiet", "--jobs", "1")
    res = run("stats", "--index", str(index), "--json")
    stats = json.loads(res.output)
    assert stats.keys() >= STATS_KEYS
    assert stats["sections"]["World"] >= 3
    assert stats["date_min"] == "1987-03-12"
    assert len(stats["date_max"]) == 10 and stats["undated"] > 0
    on_disk = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
    assert stats["index_bytes"] == on_disk > 10_000
    first = run("stats", "--index", str(index)).output.splitlines()[0]
    assert first.endswith(f"({on_disk / 1e3:.1f} kB)") if on_disk < 1e6 else "MB)" in first


def test_human_output_is_one_summary_line(index: Path) -> None:
    res = run("index", str(SAMPLE), "--index", str(index), "--jobs", "1")
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "articles in" in lines[0] and "added" in lines[0]
    assert "; by format: " in lines[0] and "reuters " in lines[0] and "html " in lines[0]


def test_index_json_counts_articles_by_format(index: Path) -> None:
    report = json.loads(run("index", str(SAMPLE), "--index", str(index), "--json",
                            "--jobs", "1").output)
    assert sum(report["formats"].values()) == report["added"]
    assert {"reuters", "html", "headline", "webpage", "dashheader"} <= report["formats"].keys()


def test_quiet_prints_nothing(index: Path) -> None:
    res = run("index", str(SAMPLE), "--index", str(index), "--quiet", "--jobs", "1")
    assert res.exit_code == 0 and res.output == ""


def test_index_env_variable_sets_the_default_folder(index: Path) -> None:
    run("index", str(SAMPLE), "--quiet", "--jobs", "1", env={"NEWSEARCH_INDEX": str(index)})
    res = run("stats", "--json", env={"NEWSEARCH_INDEX": str(index)})
    assert json.loads(res.output)["documents"] > 20


def test_strict_turns_a_skip_into_exit_code_1(tmp_path: Path, index: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "good.txt").write_text("A headline\n\nA body.\n")
    (corpus / "empty.txt").write_text("")
    res = run("index", str(corpus), "--index", str(index), "--strict", "--json")
    assert res.exit_code == 1
    expected = [{"path": str(corpus / "empty.txt"), "reason": "empty file"}]
    assert json.loads(res.output)["skipped"] == expected
    # Run again: the unchanged file is not a new skip, but the index still lacks it.
    res = run("index", str(corpus), "--index", str(index), "--strict", "--json")
    assert res.exit_code == 1
    report = json.loads(res.output)
    assert report["skipped"] == [] and report["skipped_before"] == expected
    assert run("index", str(corpus), "--index", str(index), "--quiet").exit_code == 0


@pytest.mark.parametrize("command", [["stats"], ["stats", "--json"]])
def test_missing_index_is_one_sentence_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    res = run(*command, "--index", str(tmp_path / "none"))
    assert res.exit_code == 2
    assert res.output.count("\n") == 1 and "no newsearch index" in res.output
    assert "Traceback" not in res.output


def test_folder_that_is_not_an_index_exit_2(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    res = run("stats", "--index", str(tmp_path))
    assert res.exit_code == 2 and "not a newsearch index" in res.output


def test_locked_index_exit_3(index: Path) -> None:
    run("index", str(SAMPLE), "--index", str(index), "--quiet", "--jobs", "1")
    with WriteLock(index):
        res = run("index", str(SAMPLE), "--index", str(index), "--quiet")
    assert res.exit_code == 3
    assert "the index is locked by another writer" in res.output


def test_console_script_runs_piped_without_progress(tmp_path: Path) -> None:
    """The installed entry point, piped: no progress bar, summary on stdout."""
    exe = Path(sys.executable).with_name("newsearch")
    if not exe.exists():
        pytest.skip("newsearch console script not installed in this environment")
    env = {**os.environ, "NEWSEARCH_INDEX": str(tmp_path / "ix")}
    out = subprocess.run([str(exe), "index", str(SAMPLE)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0
    assert out.stderr == ""
    assert "articles in" in out.stdout


# --- search and show --------------------------------------------------------------------------


@pytest.fixture
def sample_index(tmp_path: Path) -> Path:
    index = tmp_path / "ix"
    run("index", str(SAMPLE), "--index", str(index), "--quiet", "--jobs", "1")
    return index


SEARCH_KEYS = {"query", "total", "page", "took_ms", "suggestion", "hits", "facets"}
HIT_KEYS = {"id", "title", "date", "section", "url", "source", "score", "snippets"}


def test_search_json_has_the_documented_shape(sample_index: Path) -> None:
    res = run("search", "almaty", "--index", str(sample_index), "--json")
    assert res.exit_code == 0
    d = json.loads(res.output)
    assert d.keys() >= SEARCH_KEYS
    assert d["total"] == 3 and d["page"] == 1
    assert all(h.keys() >= HIT_KEYS for h in d["hits"])
    assert {f["value"] for f in d["facets"]["section"]} == {"World"}
    assert any("<mark>Алматы</mark>" in s for h in d["hits"] for s in h["snippets"])


def test_search_filters_limit_and_page(sample_index: Path) -> None:
    q = "heatwave OR strike OR lanes OR rates OR prices"
    base = ["search", q, "--index", str(sample_index), "--json"]
    full = json.loads(run(*base).output)
    page2 = json.loads(run(*base, "--limit", "1", "--page", "2").output)
    assert page2["total"] == full["total"] and len(page2["hits"]) == 1
    assert page2["hits"][0]["id"] == full["hits"][1]["id"]
    dated = json.loads(run(*base, "--since", "2023-01-01", "--until", "2023-12-31").output)
    assert dated["hits"] and all("2023-01-01" <= h["date"][:10] <= "2023-12-31"
                                 for h in dated["hits"])
    business = json.loads(run(*base, "--section", "business").output)
    assert business["hits"] and all("Business" in h["section"] for h in business["hits"])
    newest = json.loads(run(*base, "--sort", "date").output)
    dates = [h["date"] for h in newest["hits"] if h["date"]]
    assert dates == sorted(dates, reverse=True)


def test_search_human_output(sample_index: Path) -> None:
    res = run("search", "almaty", "--index", str(sample_index), env={"NO_COLOR": "1"})
    out = res.output
    assert res.exit_code == 0
    assert "  1. " in out and "Almaty begins rebuilding" in out
    assert "2022-01-20" in out and "World" in out and "corpus" in out
    assert "Sections: World 3" in out and "Dates by" in out
    assert "\x1b[" not in out  # no colour when piped or with NO_COLOR


def test_did_you_mean(sample_index: Path) -> None:
    res = run("search", "petrolium", "--index", str(sample_index))
    assert "Did you mean: petroleum" in res.output


@pytest.mark.parametrize("query", ["date:[2022 TO", "date:yesterday"])
def test_bad_query_exit_2_without_traceback(sample_index: Path, query: str) -> None:
    res = run("search", query, "--index", str(sample_index))
    assert res.exit_code == 2 and "bad query" in res.output and "Traceback" not in res.output


def test_search_missing_index_exit_2(tmp_path: Path) -> None:
    res = run("search", "oil", "--index", str(tmp_path / "none"))
    assert res.exit_code == 2 and "no newsearch index" in res.output


@pytest.mark.parametrize(("option", "value"), [
    ("--since", "last week"), ("--since", "1987-13"), ("--until", "1987-02-30")])
def test_bad_date_names_the_option_and_the_forms_it_takes(sample_index: Path, option: str,
                                                          value: str) -> None:
    res = run("search", "oil", "--index", str(sample_index), option, value)
    assert res.exit_code == 2
    assert res.output == (f"newsearch: {option} “{value}” is not a valid date: use YYYY-MM-DD, "
                          "YYYY-MM for a month or YYYY for a year\n")


def test_since_after_until_names_both_options(sample_index: Path) -> None:
    res = run("search", "oil", "--index", str(sample_index), "--since", "2023-05",
              "--until", "2023-04")
    assert res.exit_code == 2
    assert res.output == "newsearch: --since 2023-05-01 is after --until 2023-04-30\n"


def test_show_prints_the_article_and_json(sample_index: Path) -> None:
    hit = json.loads(run("search", "zurich", "--index", str(sample_index), "--json").output)[
        "hits"][0]
    text = run("show", hit["id"], "--index", str(sample_index)).output
    assert "Zelensky adviser meets European officials in Zürich" in text
    assert "Switzerland has offered to host" in text
    d = json.loads(run("show", hit["id"], "--index", str(sample_index), "--json").output)
    assert d.keys() >= {"id", "title", "body", "date", "section", "url", "source"}
    assert d["id"] == hit["id"] and d["section"] == ["World"]


def test_show_unknown_id_exit_2(sample_index: Path) -> None:
    res = run("show", "nope", "--index", str(sample_index))
    assert res.exit_code == 2 and "no article with id" in res.output


def test_index_of_a_path_that_does_not_exist_is_a_user_error(tmp_path: Path) -> None:
    index = tmp_path / "index"
    result = run("index", str(tmp_path / "missing"), "--index", str(index))
    assert result.exit_code == 2
    assert "no such file or folder" in result.output and "Traceback" not in result.output
    assert not index.exists()


def test_a_query_may_start_with_a_minus(sample_index: Path) -> None:
    result = run("search", "--index", str(sample_index), "--json", "--", "-zzzz almaty")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"] >= 1
    direct = run("search", "-zzzz almaty", "--index", str(sample_index), "--json")
    assert direct.exit_code == 0, direct.output
    assert json.loads(direct.output)["total"] == json.loads(result.output)["total"]
    typo = run("search", "almaty", "--limt", "3", "--index", str(sample_index))
    assert typo.exit_code == 2  # a mistyped option is still an error


def test_snippets_wrap_to_the_terminal_width_under_their_indent() -> None:
    from newsearch.render import snippet_text

    snippet = "…the <mark>Bank of England</mark> said &amp; " + "more words " * 30 + "end…"
    lines = snippet_text(snippet, color=False, width=60, indent="     ").split("\n")
    assert len(lines) > 3 and all(len(line) <= 60 and line.startswith("     ")
                                  for line in lines)
    assert " ".join(line.strip() for line in lines).startswith("…the Bank of England said &")
    assert "\n" not in snippet_text(snippet, color=False)  # piped: one line per snippet


def test_every_option_of_every_command_has_help() -> None:
    for name, command in main.commands.items():
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.help, f"newsearch {name} {param.opts[0]} has no help text"


def test_search_help_describes_paging_and_every_field_of_the_query_language() -> None:
    out = run("search", "--help").output
    assert re.search(r"--page P\s+Which page of hits", out)
    for field in ("title:", "body:", "author:", "section:", "tags:", "lang:", "date:"):
        assert field in out, f"{field} is not described"
    assert re.search(r"tags:usa\s+an exact tag", out) and re.search(r"lang:ru\s+the language", out)


def test_unknown_section_is_said_not_just_no_articles(sample_index: Path) -> None:
    res = run("search", "oil", "--index", str(sample_index), "--section", "Wrld")
    assert res.exit_code == 0
    assert res.output.splitlines()[0] == "note: there is no section “Wrld”; close ones: World"
    assert "No articles found" in res.output
