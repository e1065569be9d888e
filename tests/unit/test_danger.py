"""The danger lexicon on hostile input: runs of letters that are almost pinyin are read in linear time."""

from __future__ import annotations

from domain.cases.danger import _segment, hazards


def test_a_run_that_is_almost_pinyin_is_no_pinyin_and_ends_at_once() -> None:
    # "anan…an" splits many ways and the final q splits none: without remembering by position this backtracked
    # through every way (minutes for one word, a frozen bot for one group message).
    for token in ("an" * 19 + "q", "nan" * 13 + "q", "xian" * 9 + "qq"):
        assert _segment(token) == [token]
    assert hazards(("an" * 19 + "q ") * 20) == ()
    assert _segment("ranqixielou") == ["ran", "qi", "xie", "lou"]
    assert hazards("ranqi xielou le kuai lai") == ("gas",)
