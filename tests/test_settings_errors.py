"""Settings a person gets wrong: each is one line naming the variable, never a silent default or a traceback."""

from __future__ import annotations

import pytest

CASES = {
    "LITASSIST_SERVER__AUTH=": "invalid setting LITASSIST_SERVER__AUTH: expected USER:PASSWORD",  # not "no login"
    "LITASSIST_SERVER__AUTH=nocolon": "invalid setting LITASSIST_SERVER__AUTH: expected USER:PASSWORD",
    "LITASSIST_HOME=": "invalid setting LITASSIST_HOME: is empty",  # not the working directory
    "LITASSIST_ANSWER__MIN_SIMILARITY=nan": "invalid setting LITASSIST_ANSWER__MIN_SIMILARITY: Input should be a "
                                           "finite number",  # NaN made every answer abstain
    "LITASSIST_RETRIEVAL__KK=3": "invalid setting LITASSIST_RETRIEVAL__KK: unknown setting",  # a typo of K
}


@pytest.mark.parametrize("assignment", CASES)
def test_a_bad_setting_is_one_line_naming_it(assignment: str, run_cli, monkeypatch, tmp_path) -> None:
    name, _, value = assignment.partition("=")
    monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    args = ["serve"] if "AUTH" in name else ["sources"]
    code, out, err = run_cli(*args)
    assert code == 1 and err.strip().startswith(f"error: {CASES[assignment]}"), err
    assert len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []  # nothing was created in the working directory


@pytest.mark.parametrize("auth", [":", "alice:", ":secret"])
def test_serve_refuses_an_auth_option_missing_user_or_password(auth: str, run_cli, tmp_path) -> None:
    code, _, err = run_cli("--home", tmp_path, "serve", "--auth", auth)
    assert code == 1 and "invalid option --auth: expected USER:PASSWORD, both non-empty" in err, err


def test_the_readme_settings_table_is_the_settings_own() -> None:
    """Every setting, its default and its description, as README.md shows them (regenerate with
    `python -m litassist.assistant.settings_table`)."""
    from litassist.assistant.settings_table import README, markdown, readme_table

    assert readme_table(README.read_text(encoding="utf-8")) == markdown()
