"""Deploy paths: the ways to put an app on the internet, by the stack it is built on, each with
its trade-offs (cost, difficulty, limits) and the steps to follow. Instructions only: Paddock
deploys nothing itself, so the founder keeps the account, the bill and the keys.

The paths are constants, written for the stacks of Paddock's templates: a static site (files at
the repository's root, nothing to build), a Python FastAPI server (`app/main.py` creating
`app`, packages in `requirements.txt`) and a Vite + React single-page app (`npm run build`
writes `dist/`). The first path of each stack is the recommended one. Prices and limits are
the providers' published plans in broad strokes; each path says to check the pricing page.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stack(StrEnum):
    static_site = "static_site"
    python_fastapi = "python_fastapi"
    vite_react = "vite_react"
    unknown = "unknown"


@dataclass(frozen=True, slots=True)
class DeployPath:
    id: str
    name: str
    summary: str
    cost: str
    difficulty: str  # "easy" | "medium" | "hard"
    limits: str
    tradeoffs: tuple[str, ...]
    steps: tuple[str, ...]


_ENV_STEP = (
    "Add every variable listed in .env.example with its real value in the host's environment "
    "variables settings (never commit the real values)."
)
_PUSH_STEP = "Push the app's repository to GitHub (a private repository is fine unless noted)."
_FASTAPI_START = "uvicorn app.main:app --host 0.0.0.0 --port $PORT"

_STATIC = (
    DeployPath(
        id="github-pages",
        name="GitHub Pages",
        summary="GitHub serves the repository's files as a website.",
        cost="Free for public repositories; private ones need a paid GitHub plan.",
        difficulty="easy",
        limits="Static files only, a 1 GB site, a soft bandwidth limit of about 100 GB a month.",
        tradeoffs=(
            "Nothing to sign up for beyond GitHub, and nothing to build",
            "The site lives under https://<user>.github.io/<repository>/ unless you add a domain",
            "No server code and no custom response headers",
        ),
        steps=(
            "Push the app's repository to GitHub (public, or private on a paid plan).",
            "On GitHub, open the repository's Settings > Pages.",
            "Under Build and deployment, set Source to 'Deploy from a branch'.",
            "Pick the branch main and the folder '/ (root)', then Save.",
            "Wait a minute, then open the address GitHub shows at the top of the Pages settings.",
        ),
    ),
    DeployPath(
        id="netlify",
        name="Netlify",
        summary="Netlify publishes the files and redeploys on every push.",
        cost="Free plan with monthly usage limits; paid plans for more (see netlify.com/pricing).",
        difficulty="easy",
        limits="Static files (plus serverless functions); the free plan caps bandwidth and builds.",
        tradeoffs=(
            "Works with private repositories on the free plan",
            "Preview links for every branch",
            "Another account to manage; going over the free limits pauses the site",
        ),
        steps=(
            _PUSH_STEP,
            "Sign in at app.netlify.com and choose Add new site > Import an existing project.",
            "Connect GitHub and pick the repository.",
            "Leave Build command empty and set Publish directory to '.' (the repository's root).",
            "Choose Deploy, then open the *.netlify.app address it shows.",
        ),
    ),
    DeployPath(
        id="cloudflare-pages",
        name="Cloudflare Pages",
        summary="Cloudflare serves the files from its worldwide network.",
        cost="Free plan with unlimited bandwidth; paid plans raise build limits.",
        difficulty="easy",
        limits="Static files; 20,000 files and 25 MiB per file; a monthly build quota.",
        tradeoffs=(
            "Fast everywhere and no bandwidth bill",
            "The dashboard has more settings to find your way through",
        ),
        steps=(
            _PUSH_STEP,
            "In the Cloudflare dashboard open Workers & Pages > Create > Pages > Connect to Git.",
            "Pick the repository and choose Begin setup.",
            "Set Framework preset to None, leave Build command empty and Build output directory "
            "empty (the files are at the repository's root).",
            "Choose Save and Deploy, then open the *.pages.dev address it shows.",
        ),
    ),
)

_FASTAPI = (
    DeployPath(
        id="render",
        name="Render",
        summary="Render installs the Python packages and runs the server for you.",
        cost="A free instance to try it; always-on instances from about $7 a month "
        "(see render.com/pricing).",
        difficulty="easy",
        limits="A free instance sleeps after 15 minutes without visits (the next visit waits "
        "about a minute) and has no persistent disk.",
        tradeoffs=(
            "Everything in the browser, no command line",
            "Free instances sleep: fine for a demo, not for paying users",
            "Files written on the server are lost on each deploy: keep data in a database",
        ),
        steps=(
            _PUSH_STEP,
            "Sign in at dashboard.render.com and choose New > Web Service, then pick the "
            "repository.",
            "Set Language to Python 3, Build Command to 'pip install -r requirements.txt' and "
            f"Start Command to '{_FASTAPI_START}' (Render sets $PORT).",
            "Choose an instance type (Free to try it).",
            "Under Environment, add PYTHON_VERSION (e.g. 3.12) and every variable listed in "
            ".env.example with its real value.",
            "Choose Create Web Service; when the log says it is live, open the *.onrender.com "
            "address.",
        ),
    ),
    DeployPath(
        id="fly",
        name="Fly.io",
        summary="Fly builds a container from the app and runs it on small machines near users.",
        cost="Pay as you go: a small always-on machine costs a few dollars a month "
        "(see fly.io/pricing).",
        difficulty="medium",
        limits="Needs its command line tool and a Dockerfile (it writes one); a card on file.",
        tradeoffs=(
            "Always on and fast to start, in the regions you choose",
            "Command-line setup: harder for a first deploy",
            "A volume is needed to keep files between deploys",
        ),
        steps=(
            "Install flyctl (fly.io/docs/flyctl/install) and run 'fly auth signup'.",
            "In the app's folder run 'fly launch --no-deploy'; accept the detected Python app, "
            "which writes a Dockerfile and fly.toml.",
            f'Make the Dockerfile\'s last line CMD ["sh", "-c", "{_FASTAPI_START}"].',
            'In fly.toml check internal_port = 8080 and add a section [env] with PORT = "8080".',
            "Set each variable from .env.example with 'fly secrets set NAME=value'.",
            "Run 'fly deploy', then 'fly apps open' to see it.",
        ),
    ),
    DeployPath(
        id="railway",
        name="Railway",
        summary="Railway detects the Python app, builds it and runs it from the repository.",
        cost="A paid plan from about $5 a month including some usage; a trial to start "
        "(see railway.com/pricing).",
        difficulty="easy",
        limits="Usage-based billing beyond the plan's included amount; no free tier after the "
        "trial.",
        tradeoffs=(
            "Always on, with databases one click away",
            "Costs money from the start once the trial ends",
        ),
        steps=(
            _PUSH_STEP,
            "At railway.com choose New Project > Deploy from GitHub repo and pick the repository.",
            f"Open the service's Settings > Deploy and set Custom Start Command to "
            f"'{_FASTAPI_START}' (Railway sets $PORT).",
            "In the Variables tab, add every variable listed in .env.example with its real value.",
            "In Settings > Networking choose Generate Domain, then open that address.",
        ),
    ),
)

_VITE = (
    DeployPath(
        id="netlify",
        name="Netlify",
        summary="Netlify runs the production build and serves the built files.",
        cost="Free plan with monthly usage limits, commercial use allowed; paid plans for more "
        "(see netlify.com/pricing).",
        difficulty="easy",
        limits="Serves static files: the app has no server of its own; the free plan caps "
        "bandwidth and build minutes.",
        tradeoffs=(
            "Builds on every push, preview links for every branch",
            "Anything in VITE_ variables is built into the page: never put secrets there",
        ),
        steps=(
            _PUSH_STEP,
            "Sign in at app.netlify.com and choose Add new site > Import an existing project, "
            "then pick the repository.",
            "Set Build command to 'npm run build' and Publish directory to 'dist'.",
            "Under Environment variables add NODE_VERSION = 22, and every variable listed in "
            ".env.example (they are read at build time).",
            "If the app has several pages (client-side routes), add a file public/_redirects "
            "containing '/*  /index.html  200'.",
            "Choose Deploy, then open the *.netlify.app address.",
        ),
    ),
    DeployPath(
        id="vercel",
        name="Vercel",
        summary="Vercel detects Vite, builds the app and serves it worldwide.",
        cost="Hobby plan free for personal, non-commercial use; Pro about $20 a month per member "
        "(see vercel.com/pricing).",
        difficulty="easy",
        limits="The free Hobby plan may not be used commercially; static files plus serverless "
        "functions.",
        tradeoffs=(
            "The smoothest setup: it recognises Vite by itself",
            "A business needs the paid plan",
        ),
        steps=(
            _PUSH_STEP,
            "Sign in at vercel.com and choose Add New > Project, then import the repository.",
            "Check Framework Preset is Vite, Build Command 'npm run build', Output Directory "
            "'dist'.",
            "Under Environment Variables add every variable listed in .env.example.",
            "Choose Deploy, then open the *.vercel.app address.",
        ),
    ),
    DeployPath(
        id="cloudflare-pages",
        name="Cloudflare Pages",
        summary="Cloudflare builds the app and serves it from its worldwide network.",
        cost="Free plan with unlimited bandwidth, commercial use allowed; paid plans raise build "
        "limits.",
        difficulty="easy",
        limits="A monthly build quota; 20,000 files and 25 MiB per file.",
        tradeoffs=(
            "No bandwidth bill however popular the app gets",
            "The dashboard has more settings to find your way through",
        ),
        steps=(
            _PUSH_STEP,
            "In the Cloudflare dashboard open Workers & Pages > Create > Pages > Connect to Git, "
            "pick the repository and choose Begin setup.",
            "Set Framework preset to React (Vite): Build command 'npm run build', Build output "
            "directory 'dist'.",
            "Under Environment variables add NODE_VERSION = 22 and every variable listed in "
            ".env.example.",
            "Choose Save and Deploy, then open the *.pages.dev address.",
        ),
    ),
)

_UNKNOWN = (
    DeployPath(
        id="render",
        name="Render",
        summary="Render runs a web service from the repository, natively or from a Dockerfile.",
        cost="A free instance to try it; always-on instances from about $7 a month "
        "(see render.com/pricing).",
        difficulty="medium",
        limits="A free instance sleeps after 15 minutes without visits; no persistent disk.",
        tradeoffs=(
            "Everything in the browser",
            "You must know the app's build and start commands",
        ),
        steps=(
            _PUSH_STEP,
            "Sign in at dashboard.render.com and choose New > Web Service, then pick the "
            "repository.",
            "Pick the app's language (or Docker if it has a Dockerfile), and set the Build "
            "Command that installs it and the Start Command that runs it on 0.0.0.0 and $PORT.",
            _ENV_STEP,
            "Choose Create Web Service and open the *.onrender.com address when it is live.",
        ),
    ),
    DeployPath(
        id="railway",
        name="Railway",
        summary="Railway detects most languages, builds the app and runs it.",
        cost="A paid plan from about $5 a month including some usage; a trial to start.",
        difficulty="medium",
        limits="Usage-based billing beyond the plan's included amount.",
        tradeoffs=("Detects many stacks by itself", "Costs money once the trial ends"),
        steps=(
            _PUSH_STEP,
            "At railway.com choose New Project > Deploy from GitHub repo and pick the repository.",
            "If the build cannot tell how to start the app, set Settings > Deploy > Custom Start "
            "Command to a command listening on 0.0.0.0 and $PORT.",
            _ENV_STEP,
            "In Settings > Networking choose Generate Domain, then open that address.",
        ),
    ),
    DeployPath(
        id="fly",
        name="Fly.io",
        summary="Fly runs the app as a container on small machines near users.",
        cost="Pay as you go: a small always-on machine costs a few dollars a month.",
        difficulty="hard",
        limits="Needs its command line tool and a Dockerfile; a card on file.",
        tradeoffs=("Runs anything that fits in a container", "Command-line setup"),
        steps=(
            "Install flyctl (fly.io/docs/flyctl/install) and run 'fly auth signup'.",
            "In the app's folder run 'fly launch --no-deploy'; it writes fly.toml (and a "
            "Dockerfile when it recognises the app).",
            "Make sure the app listens on 0.0.0.0 at the fly.toml internal_port.",
            "Set each variable from .env.example with 'fly secrets set NAME=value'.",
            "Run 'fly deploy', then 'fly apps open'.",
        ),
    ),
)

_PATHS: dict[Stack, tuple[DeployPath, ...]] = {
    Stack.static_site: _STATIC,
    Stack.python_fastapi: _FASTAPI,
    Stack.vite_react: _VITE,
    Stack.unknown: _UNKNOWN,
}

# Why each stack's first path is the recommended one, for the founder.
RECOMMENDATION_REASON: dict[Stack, str] = {
    Stack.static_site: "Free, and nothing to sign up for beyond GitHub.",
    Stack.python_fastapi: "Free to try, set up entirely in the browser.",
    Stack.vite_react: "A free plan that allows commercial use, with builds on every push.",
    Stack.unknown: "Runs most kinds of app from the browser, with a free instance to try.",
}


def deploy_paths(stack: Stack) -> tuple[DeployPath, ...]:
    """The ways to deploy an app of `stack`, the recommended one first."""
    return _PATHS[stack]


def recommended_path(stack: Stack) -> DeployPath:
    return _PATHS[stack][0]
