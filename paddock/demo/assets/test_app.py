import unittest
from pathlib import Path


class PageTest(unittest.TestCase):
    def test_page_has_a_greeting(self) -> None:
        page = (Path(__file__).parent / "public" / "index.html").read_text()
        self.assertIn('id="greeting"', page)


if __name__ == "__main__":
    unittest.main()
