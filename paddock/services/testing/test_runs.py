"""Test runs: a project's unit or e2e test script run in an attempt's sandbox, its JUnit
report read into cases (`test_reports` reads it).

The script is told where to write its report (`JUNIT_OUTPUT`, a file in `JUNIT_OUTPUT_DIR`;
every .xml file in that folder counts). An e2e run gets the attempt's preview, started on demand,
as `PREVIEW_URL` / `BASE_URL`, and a key of its own that lets it past the preview's guard while
it runs (`PADDOCK_PREVIEW_KEY`, sent as the `X-Paddock-Preview-Key` header). In a sandbox with
network "private" it reaches the preview through a gate of the server's inside its network,
which serves previews and nothing else (`preview_gate`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from paddock.agents.script import shell_argv
from paddock.domain.artifact import JUNIT_DIR
from paddock.domain.entities import Attempt, Process
from paddock.domain.errors import Conflict, InvalidInput, NotFound, PaddockError
from paddock.domain.events import EventType
from paddock.domain.junit import JUnitReport
from paddock.domain.names import new_debug_id, new_id
from paddock.domain.preview import DEFAULT_SERVICE, Preview, PreviewStatus
from paddock.domain.sandbox import Network, Provider
from paddock.domain.states import AttemptStatus, TestKind, TestRunStatus
from paddock.domain.test_run import TestCaseResult, TestRun, TestTotals, run_outcome
from paddock.runtime import git
from paddock.runtime.launcher import InsideNetwork
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.context import Context, log
from paddock.services.previews.preview_access import TICKET_PARAM
from paddock.services.previews.preview_gate import PreviewGate, Served
from paddock.services.previews.previews import PreviewService
from paddock.services.processes.process_request import ProcessRequest
from paddock.services.processes.processes import ProcessService
from paddock.services.sandbox.sandboxing import sandbox_network
from paddock.services.testing.artifacts import ArtifactService
from paddock.services.testing.test_reports import ReportReader, case_rows, report_totals
from paddock.store import attempts as attempt_store
from paddock.store import test_runs as store
from paddock.store.tables.base import utcnow

KEY_ENV = "PADDOCK_PREVIEW_KEY"
FAILURES_SHOWN = 100  # failing cases a run's detail carries, each with its message and output


@dataclass(frozen=True, slots=True)
class TestRunDetail:
    """A run with its failing cases (message and output): what a failure needs, in one read."""

    __test__ = False

    run: TestRun
    failures: list[TestCaseResult]


class TestRunService:
    __test__ = False

    def __init__(
        self,
        ctx: Context,
        processes: ProcessService,
        previews: PreviewService,
        artifacts: ArtifactService,
    ) -> None:
        self.ctx = ctx
        self.processes = processes
        self.previews = previews
        self.artifacts = artifacts
        self._tasks: dict[str, asyncio.Task[TestRun]] = {}
        self._stopping: set[str] = set()  # runs stopped before their process started
        self.reports = ReportReader(ctx, artifacts)
        # Serves previews inside a private network (the web layer's); None: e2e runs there are
        # refused.
        self.gate: PreviewGate | None = None

    async def start(self, attempt_id: str, kind: TestKind, *, wait: bool = False) -> TestRun:
        """Start the attempt's `kind` test script; with `wait`, return once it finished."""
        attempt = await self.ctx.db.run(lambda s: attempt_store.get_attempt(s, attempt_id))
        script = self._script(attempt, kind)
        self._check_ready(attempt, kind)
        tree = await attempt_worktree(self.ctx, attempt)
        commit = await git.rev_parse(tree, "HEAD")
        run_id, process_id = new_id(), new_id()

        def create(session: Session) -> TestRun:
            running = store.list_runs(session, attempt_id=attempt_id, kind=kind, limit=1)
            if running and running[0].status is TestRunStatus.running:
                raise Conflict(
                    f"the {kind.value} tests of this attempt are running already",
                    code="test_run_running",
                    test_run_id=running[0].id,
                )
            return store.create_run(
                session,
                run_id=run_id,
                attempt_id=attempt.id,
                task_id=attempt.task_id,
                kind=kind,
                process_id=process_id,
                commit=commit,
            )

        run = await self.ctx.db.run(create)
        self._prepare_network(attempt, process_id)
        self._publish(EventType.test_run_created, attempt, run)
        task = asyncio.create_task(self._execute(attempt, run, script))
        self._tasks[run.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(run.id, None))
        if wait:
            return await task
        return run

    @staticmethod
    def _script(attempt: Attempt, kind: TestKind) -> str:
        script = attempt.scripts.unit_test if kind is TestKind.unit else attempt.scripts.e2e_test
        if not script.strip():
            field = "unit_test" if kind is TestKind.unit else "e2e_test"
            raise InvalidInput(
                f"the project has no {field} script: set one in its settings or .paddock.toml",
                code="no_test_script",
            )
        return script

    def _check_ready(self, attempt: Attempt, kind: TestKind) -> None:
        if attempt.status in (AttemptStatus.creating, AttemptStatus.vanished):
            raise Conflict(
                f"attempt {attempt.id} is {attempt.status.value}", code="attempt_not_ready"
            )
        if kind is not TestKind.e2e:
            return
        provider = self.ctx.sandboxes.resolve(attempt.sandbox.provider)
        network = attempt.sandbox.over(self.ctx.settings.sandbox.defaults).network
        if provider is Provider.none or network is Network.host:
            return
        if network is Network.none:
            raise Conflict(
                "e2e tests reach the preview through Paddock's proxy: an attempt whose sandbox "
                "has network none cannot run them",
                code="e2e_needs_network",
            )
        if provider is not Provider.bwrap or self.gate is None:
            raise Conflict(
                f"e2e tests in a network-private {provider.value} sandbox cannot reach the "
                "preview here (only bwrap sandboxes get a gate to it): run them with sandbox "
                "provider bwrap, or network host",
                code="e2e_needs_network",
            )

    def _inside_gate(self, attempt: Attempt) -> bool:
        """Whether the attempt's e2e runs reach previews through a gate in their network."""
        provider = self.ctx.sandboxes.resolve(attempt.sandbox.provider)
        network = attempt.sandbox.over(self.ctx.settings.sandbox.defaults).network
        return provider is not Provider.none and network is Network.private

    async def _execute(self, attempt: Attempt, run: TestRun, script: str) -> TestRun:
        key: str | None = None
        gates: list[Served] = []
        try:
            env = self._report_env(run)
            inside = run.kind is TestKind.e2e and self._inside_gate(attempt)
            if run.kind is TestKind.e2e:
                preview = await self._preview(attempt)
                key = self.previews.access.grant_run(attempt.id)
                env.update(self._preview_env(preview, key, inside=inside))
                url = self.previews.url(preview)
                run = await self.ctx.db.run(lambda s: store.set_preview_url(s, run.id, url))
            assert run.process_id is not None
            if run.id in self._stopping:
                raise Conflict("the test run was stopped", code="test_run_stopped")
            proc = await self.processes.run(
                attempt,
                ProcessRequest(
                    run.kind.reason,
                    shell_argv(script),
                    env=env,
                    secret_env=[KEY_ENV] if key else [],
                    process_id=run.process_id,
                    on_network=self._gate_opener(gates) if inside else None,
                ),
            )
            reading = await self.reports.read(run.process_id)
            totals = report_totals(reading.report)
            status, error = run_outcome(proc.status, proc.exit_code, totals, reading.problem)
            code = reading.code if error is not None and error == reading.problem else None
            return await self._finish(attempt, run, status, totals, reading.report, error, code)
        except PaddockError as exc:
            return await self._finish(
                attempt, run, TestRunStatus.error, None, None, exc.message, exc.code
            )
        except Exception as exc:
            log.exception("test run %s crashed", run.id)
            return await self._finish(attempt, run, TestRunStatus.error, None, None, str(exc))
        finally:
            self._stopping.discard(run.id)
            if key is not None:
                self.previews.access.revoke_run(key)
            for served in gates:
                await served.close()

    async def run_against_preview(
        self, attempt_id: str, request: ProcessRequest, preview: asyncio.Future[Preview]
    ) -> Process:
        """Run a process that looks at the attempt's preview from its sandbox, as an e2e run
        does but with no test run recorded. It starts at once, while `preview` (the
        attempt's, being started by the caller) is not yet known: once it is, a URL of it the
        process can open, with a one-time ticket in it (a browser redeems it for the preview's
        cookie: it cannot send the key's header), is written to its stdin, one line. So what
        the process must start first (a browser) starts beside the preview. `preview`
        cancelled or failing: end-of-file instead."""
        attempt = await self.ctx.db.run(lambda s: attempt_store.get_attempt(s, attempt_id))
        self._check_ready(attempt, TestKind.e2e)
        process_id = new_id()
        self._prepare_network(attempt, process_id)
        inside = self._inside_gate(attempt)
        url_line: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        async def send_the_url() -> None:
            try:
                running = await asyncio.shield(preview)
                if running.attempt_id != attempt.id:
                    raise NotFound("that preview is another attempt's", code="preview_not_found")
                url = self._preview_env(running, "", inside=inside)["PREVIEW_URL"]
                ticket = await self.previews.access.issue_ticket(running)
                url_line.set_result(f"{url}?{TICKET_PARAM}={ticket}\n".encode())
            finally:
                url_line.cancel()  # a no-op once it has its result

        sender = asyncio.ensure_future(send_the_url())
        request = replace(request, process_id=process_id, stdin=url_line)
        gates: list[Served] = []
        if inside:
            request = replace(request, on_network=self._gate_opener(gates))
        try:
            return await self.processes.run(attempt, request)
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)  # its failure was the EOF
            for served in gates:
                await served.close()

    def _prepare_network(self, attempt: Attempt, process_id: str) -> None:
        """The sandbox's network of the run's process (`process_id`), made from now on while
        the run is recorded and its preview looked up (its launch claims it)."""
        provider = self.ctx.sandboxes.resolve(attempt.sandbox.provider)
        self.ctx.sandboxes.prepare(
            provider, sandbox_network(self.ctx.settings, attempt), process_id
        )

    def _gate_opener(self, gates: list[Served]) -> Callable[[InsideNetwork], Awaitable[None]]:
        """What opens the run's gate to the previews once its network is up: a listener of
        the server's on 127.0.0.1:<Paddock's port> inside it, serving previews only."""
        gate = self.gate
        port = self.ctx.settings.server.port

        async def open_gate(network: InsideNetwork) -> None:
            if gate is None:
                raise Conflict("no gate to the previews here", code="e2e_needs_network")
            sock = await network.listen("127.0.0.1", port)
            try:
                gates.append(await gate.serve(sock))
            except BaseException:
                sock.close()
                raise

        return open_gate

    def _report_env(self, run: TestRun) -> dict[str, str]:
        assert run.process_id is not None
        junit_dir = self.artifacts.folder(run.process_id) / JUNIT_DIR
        return {
            "JUNIT_OUTPUT": str(junit_dir / "results.xml"),
            "JUNIT_OUTPUT_DIR": str(junit_dir),
            "PADDOCK_TEST_KIND": run.kind.value,
            "PADDOCK_TEST_RUN_ID": run.id,
            "CI": "true",  # runners stop watching files and asking questions
        }

    async def _preview(self, attempt: Attempt) -> Preview:
        """The attempt's web preview, started (and waited for) when it is not running."""
        previews = await self.previews.start(attempt.id, wait=True)
        chosen = next((p for p in previews if p.service == DEFAULT_SERVICE), previews[0])
        if chosen.status is not PreviewStatus.running:
            raise Conflict(
                f"the preview of {chosen.service} did not start: {chosen.error or chosen.status}",
                code="preview_not_running",
            )
        return chosen

    def _preview_env(self, preview: Preview, key: str, *, inside: bool) -> dict[str, str]:
        settings = self.ctx.settings
        url = self.previews.url(preview)
        if inside:  # the gate: plain HTTP on Paddock's own port, whatever browsers are told
            url = f"http://{preview.host}.{settings.previews.domain}:{settings.server.port}/"
        fallback = f"http://127.0.0.1:{settings.server.port}/preview/{preview.id}/"
        return {
            "PREVIEW_URL": url,
            "BASE_URL": url,
            # For clients that do not resolve *.localhost themselves (browsers and curl do).
            "PREVIEW_FALLBACK_URL": fallback,
            KEY_ENV: key,
            "PADDOCK_PREVIEW_KEY_HEADER": "X-Paddock-Preview-Key",
        }

    async def _finish(
        self,
        attempt: Attempt,
        run: TestRun,
        status: TestRunStatus,
        totals: TestTotals | None,
        report: JUnitReport | None,
        error: str | None,
        error_code: str | None = None,
    ) -> TestRun:
        debug_id = None
        if status is TestRunStatus.error:
            debug_id = new_debug_id()
            log.warning(
                "test run %s (%s of attempt %s): %s [debug_id=%s]",
                run.id,
                run.kind.value,
                attempt.id,
                error,
                debug_id,
            )
        finished = await self.ctx.db.run(
            lambda s: store.finish_run(
                s,
                run.id,
                status=status,
                totals=totals,
                duration_s=report.duration_s if report else None,
                error=error,
                debug_id=debug_id,
                # Made in the database's thread: up to report_max_cases rows.
                cases=case_rows(report),
                error_code=error_code,
            )
        )
        self._publish(EventType.test_run_updated, attempt, finished)
        return finished

    def _publish(self, type_: EventType, attempt: Attempt, run: TestRun) -> None:
        self.ctx.publish(type_, attempt.project_id, run)

    # -- reading ----------------------------------------------------------------------------------

    async def get(self, run_id: str) -> TestRun:
        return await self.ctx.db.run(lambda s: store.get_run(s, run_id))

    async def detail(self, run_id: str) -> TestRunDetail:
        def load(session: Session) -> TestRunDetail:
            run = store.get_run(session, run_id)
            return TestRunDetail(run, store.failing_cases(session, run_id, FAILURES_SHOWN))

        return await self.ctx.db.run(load)

    async def cases(
        self, run_id: str, *, status: str | None = None, limit: int = 10_000
    ) -> list[TestCaseResult]:
        return await self.ctx.db.run(
            lambda s: store.list_cases(s, run_id, status=status, limit=limit)
        )

    async def for_attempt(self, attempt_id: str, kind: TestKind | None = None) -> list[TestRun]:
        def load(session: Session) -> list[TestRun]:
            attempt_store.get_attempt(session, attempt_id)
            return store.list_runs(session, attempt_id=attempt_id, kind=kind)

        return await self.ctx.db.run(load)

    async def for_task(self, task_id: str, kind: TestKind | None = None) -> list[TestRun]:
        return await self.ctx.db.run(lambda s: store.list_runs(s, task_id=task_id, kind=kind))

    async def stop(self, run_id: str) -> TestRun:
        run = await self.get(run_id)
        if run.status.finished or run.process_id is None:
            return run
        task = self._tasks.get(run_id)
        if task is not None:  # its process may not have started yet (an e2e preview)
            self._stopping.add(run_id)
        with contextlib.suppress(Conflict, NotFound):  # ...or ended meanwhile
            await self.processes.stop(run.process_id)
        if task is not None:
            return await task
        return await self.get(run_id)

    async def wait(self, run_id: str) -> TestRun:
        task = self._tasks.get(run_id)
        return await task if task is not None else await self.get(run_id)

    async def reconcile(self) -> None:
        """At start-up: runs a stopped server left `running` can never finish."""
        now = utcnow()
        mine = self.ctx.runner_id
        for run in await self.ctx.db.run(lambda s: store.mark_interrupted(s, now, mine)):
            log.info("test run %s was running when the server stopped: marked error", run.id)

    async def close(self) -> None:
        """After the processes were stopped: let the runs record how they ended."""
        tasks = list(self._tasks.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=10)
            for task in pending:
                task.cancel()
