import json
import threading
import unittest
from urllib.request import urlopen

import api
from app import make_server


class ApiTest(unittest.TestCase):
    def test_the_api_greets(self) -> None:
        self.assertTrue(api.greeting({})["greeting"])

    def test_the_spec_describes_every_route(self) -> None:
        self.assertEqual(set(api.openapi()["paths"]), set(api.ROUTES))

    def test_the_server_answers_the_api_and_its_spec(self) -> None:
        server = make_server("127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with urlopen(f"{base}/api/greeting", timeout=10) as answer:
            self.assertEqual(json.load(answer), api.greeting({}))
        with urlopen(f"{base}/openapi.json", timeout=10) as answer:
            self.assertEqual(json.load(answer)["info"]["title"], "Hello Paddock")


if __name__ == "__main__":
    unittest.main()
