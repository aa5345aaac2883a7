import pytest

from paddock.domain.entities import Scripts
from paddock.domain.errors import InvalidInput
from paddock.domain.project_config import effective_scripts, follow_project, parse_repo_config


def test_repo_config_overrides_project_scripts():
    config = parse_repo_config('copy_files = [".env"]\n[scripts]\nsetup = "make deps"\n')
    scripts = effective_scripts(Scripts(setup="old", dev="npm run dev"), config)
    assert scripts == Scripts(setup="make deps", dev="npm run dev")
    assert config.copy_files == [".env"]


def test_no_repo_config_keeps_project_scripts():
    assert effective_scripts(Scripts(dev="x"), None) == Scripts(dev="x")


@pytest.mark.parametrize(
    "text",
    [
        "not toml [",
        "[scripts]\nbuild = 'x'\n",  # unknown script name
        "[scripts]\nsetup = 3\n",
        "copy_files = 'x'\n",
        "colour = 'red'\n",  # unknown key
    ],
)
def test_bad_repo_config_is_refused_with_a_code(text):
    with pytest.raises(InvalidInput) as info:
        parse_repo_config(text)
    assert info.value.code == "bad_repo_config"


def test_an_attempt_follows_the_scripts_it_took_from_its_project():
    before = Scripts(unit_test="pytest", dev="npm run dev", setup="make")
    after = Scripts(unit_test="pytest -q", dev="vite", setup="make")
    took_all = before
    own_tests = Scripts(unit_test="tox", dev="npm run dev", setup="make")  # its .paddock.toml
    assert follow_project(took_all, before, after) == after
    assert follow_project(own_tests, before, after) == Scripts(
        unit_test="tox", dev="vite", setup="make"
    )
    # Unchanged project scripts change nothing, even where the attempt differs.
    assert follow_project(own_tests, before, before) is own_tests
