// End-to-end check of a running copy of the app (at $PREVIEW_URL): the page is served with the
// root element React renders into, and the content (app.json) is served and well-formed.
// A guarded preview needs its key: sent as a header when $PADDOCK_PREVIEW_KEY is set.
// Exits 0 when every check passed; writes a JUnit XML report to $JUNIT_OUTPUT when set.
import { mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { dirname } from "node:path";

const base = process.env.PREVIEW_URL || "http://127.0.0.1:5173/";
const headers = process.env.PADDOCK_PREVIEW_KEY
  ? { "X-Paddock-Preview-Key": process.env.PADDOCK_PREVIEW_KEY }
  : {};

// A `*.localhost` host (how previews are served) is asked of 127.0.0.1 with that Host:
// browsers resolve such names, Node does not (and its fetch cannot set Host).
function get(path) {
  const url = new URL(path, base);
  const loopback = url.hostname.endsWith(".localhost");
  const options = {
    host: loopback ? "127.0.0.1" : url.hostname,
    port: url.port || 80,
    path: url.pathname + url.search,
    headers: { ...headers, Host: url.host },
  };
  return new Promise((resolve, reject) => {
    const req = request(options, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => {
        if (response.statusCode !== 200) {
          reject(new Error(`${path || "/"} answered HTTP ${response.statusCode}`));
        } else {
          resolve(body);
        }
      });
    });
    req.setTimeout(15000, () => req.destroy(new Error(`${path || "/"} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

function expect(condition, failure) {
  if (!condition) throw new Error(failure);
}

const checks = {
  async homePage() {
    const html = await get("");
    expect(html.includes('id="root"'), "the page has no root element (id=root)");
  },
  async content() {
    const app = JSON.parse(await get("app.json"));
    expect(Array.isArray(app.features) && app.features.length > 0, "app.json lists no feature");
  },
};

function escape(text) {
  return String(text).replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function writeJunit(path, results) {
  const failed = results.filter((r) => r.error).length;
  const cases = results.map(({ name, seconds, error }) => {
    const failure = error ? `<failure message="${escape(error.message)}">${escape(error.stack)}</failure>` : "";
    return `  <testcase classname="e2e" name="${name}" time="${seconds.toFixed(3)}">${failure}</testcase>`;
  });
  const suite = `<testsuite name="e2e" tests="${results.length}" failures="${failed}">`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `<?xml version="1.0" encoding="UTF-8"?>\n${suite}\n${cases.join("\n")}\n</testsuite>\n`);
}

const results = [];
for (const [name, check] of Object.entries(checks)) {
  const started = performance.now();
  try {
    await check();
    console.log(`ok   ${name}`);
    results.push({ name, seconds: (performance.now() - started) / 1000 });
  } catch (error) {
    console.log(`FAIL ${name}: ${error.message}`);
    results.push({ name, seconds: (performance.now() - started) / 1000, error });
  }
}
if (process.env.JUNIT_OUTPUT) writeJunit(process.env.JUNIT_OUTPUT, results);
process.exit(results.some((r) => r.error) ? 1 : 0);
