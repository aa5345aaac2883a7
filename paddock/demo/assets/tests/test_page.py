import unittest
from pathlib import Path

PAGE = Path(__file__).parents[1] / "public" / "index.html"


class PageTest(unittest.TestCase):
    def test_page_has_a_greeting(self) -> None:
        self.assertIn('id="greeting"', PAGE.read_text())

    def test_page_shows_what_the_api_says(self) -> None:
        self.assertIn('fetch("api/greeting")', PAGE.read_text())


if __name__ == "__main__":
    unittest.main()
