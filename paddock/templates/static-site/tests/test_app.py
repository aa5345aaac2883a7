"""The page and its content: app.json is well-formed, index.html has what app.js fills in."""

import json
import re
import unittest
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIRED_IDS = ("app-name", "tagline", "features", "changes")


class PageParser(HTMLParser):
    """The ids and script sources of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, str] = {}
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids[str(values["id"])] = tag
        if tag == "script" and values.get("src"):
            self.scripts.append(str(values["src"]))


def load_app() -> dict[str, object]:
    return json.loads((ROOT / "app.json").read_text(encoding="utf-8"))


def parse_page() -> PageParser:
    parser = PageParser()
    parser.feed((ROOT / "index.html").read_text(encoding="utf-8"))
    return parser


class AppJsonTest(unittest.TestCase):
    def test_it_names_the_app_and_says_what_it_is_for(self) -> None:
        app = load_app()
        for key in ("name", "tagline", "users"):
            self.assertIsInstance(app.get(key), str, key)
        self.assertTrue(str(app["name"]).strip())

    def test_every_feature_has_a_name_and_a_description(self) -> None:
        features = load_app().get("features")
        self.assertIsInstance(features, list)
        assert isinstance(features, list)
        self.assertGreaterEqual(len(features), 1)
        for feature in features:
            self.assertTrue(str(feature.get("name", "")).strip())
            self.assertIsInstance(feature.get("description", ""), str)

    def test_changes_are_lines_of_text(self) -> None:
        changes = load_app().get("changes", [])
        self.assertIsInstance(changes, list)
        assert isinstance(changes, list)
        self.assertTrue(all(isinstance(change, str) for change in changes))


class PageTest(unittest.TestCase):
    def test_it_has_the_elements_app_js_fills_in(self) -> None:
        ids = parse_page().ids
        for element_id in REQUIRED_IDS:
            self.assertIn(element_id, ids)
        self.assertEqual(ids["app-name"], "h1")
        self.assertIn(ids["features"], ("ul", "ol"))

    def test_it_loads_app_js(self) -> None:
        self.assertIn("app.js", parse_page().scripts)

    def test_app_js_renders_every_required_element(self) -> None:
        script = (ROOT / "app.js").read_text(encoding="utf-8")
        for element_id in REQUIRED_IDS:
            self.assertTrue(re.search(rf"[\"']{element_id}[\"']", script), element_id)


if __name__ == "__main__":
    unittest.main()
