"""The sandbox providers' contract: each provider (bwrap, container) fulfils `ProviderLauncher`
whole, is given to `Sandboxes` the same way, and no provider's modules import another's (what
they share lives in neutral modules). Imports are read from the source with `ast`, so a new
module is covered the moment it exists."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from paddock.domain.sandbox import Network, Provider
from paddock.runtime import sandbox as sandbox_package
from paddock.runtime.sandbox.bwrap import BwrapLauncher
from paddock.runtime.sandbox.container import ContainerLauncher
from paddock.runtime.sandbox.sandboxes import ProviderLauncher, Sandboxes

FOLDER = Path(sandbox_package.__file__).parent
PACKAGE = "paddock.runtime.sandbox"
LAUNCHER_MODULE = Path(sandbox_package.__file__).parent.parent / "launcher.py"
# A provider's modules are named after it: `bwrap.py`, `bwrap_args.py`, `container_*.py`.
PROVIDERS = {Provider.bwrap: BwrapLauncher, Provider.container: ContainerLauncher}


def family(module: str) -> str | None:
    """The provider whose module `module` (dotted) is; None for a neutral module."""
    if not module.startswith(PACKAGE + "."):
        return None
    name = module[len(PACKAGE) + 1 :].partition(".")[0]
    return next((p.value for p in PROVIDERS if name.partition("_")[0] == p.value), None)


def imported(source: str, module: str) -> set[str]:
    """Every module `source` (the text of module `module`) imports, at any depth of its code,
    relative imports resolved; `from package import name` counts as `package.name` too."""
    found: set[str] = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            target = ".".join(part for part in (base, node.module or "") if part)
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def crossings(source: str, module: str) -> list[str]:
    """The provider modules `module` imports that it must not: another provider's, or any
    provider's for a neutral module."""
    own = family(module)
    return sorted(m for m in imported(source, module) if family(m) not in (None, own))


def modules() -> list[tuple[str, Path]]:
    found = [(f"{PACKAGE}.{path.stem}", path) for path in sorted(FOLDER.glob("*.py"))]
    return [*found, ("paddock.runtime.launcher", LAUNCHER_MODULE)]


def test_the_check_sees_a_crossing_however_it_is_written() -> None:
    container = f"{PACKAGE}.container_config"
    written = [
        "from paddock.runtime.sandbox.bwrap_args import PRIVATE_DIRS",
        "from paddock.runtime.sandbox import bwrap",
        "import paddock.runtime.sandbox.bwrap_process as process",
        "from .bwrap import BwrapLauncher",
        "def later():\n    from . import bwrap_args\n",
    ]
    for source in written:
        assert crossings(source, container), source
    assert crossings("from .container import ContainerLauncher", f"{PACKAGE}.bwrap")
    assert crossings("from .container import ContainerLauncher", f"{PACKAGE}.sandboxes")
    # A provider's own modules, and the neutral ones, are fine.
    assert not crossings("from .container_engine import connect", container)
    assert not crossings("from paddock.runtime.sandbox import cgroups", container)
    assert not crossings("from paddock.runtime.sandbox.bwrap_args import MIB", f"{PACKAGE}.bwrap")


@pytest.mark.parametrize(("module", "path"), modules(), ids=lambda v: str(v).split(".")[-1])
def test_no_module_imports_another_providers_module(module: str, path: Path) -> None:
    wrong = crossings(path.read_text(), module)
    assert not wrong, f"{module} imports {wrong}: move what they share to a neutral module"


def test_every_provider_module_is_named_after_a_provider() -> None:
    """The import rule holds only for modules it can place: a provider's files start with its
    name, and the families found are exactly the providers."""
    families = {family(module) for module, _ in modules()} - {None}
    assert families == {p.value for p in PROVIDERS}


def contract() -> dict[str, object]:
    """The members `ProviderLauncher` requires: its methods, and its annotated attributes."""
    members: dict[str, object] = {
        name: value
        for name, value in vars(ProviderLauncher).items()
        if not name.startswith("_") and inspect.isfunction(value)
    }
    members.update({name: None for name in ProviderLauncher.__annotations__})
    return members


def test_the_contract_is_what_sandboxes_ask_of_a_provider() -> None:
    assert set(contract()) == {
        "name",
        "problem",
        "network_problem",
        "limits_enforced",
        "details",
        "prepare",
        "launch",
        "reap_stale",
        "settle",
        "close",
    }


@pytest.mark.parametrize("provider", list(PROVIDERS), ids=lambda p: p.value)
def test_each_provider_fulfils_the_whole_contract(provider: Provider) -> None:
    launcher = PROVIDERS[provider]
    assert launcher.name == provider.value
    for name, wanted in contract().items():
        if wanted is None:  # an attribute: `name`, checked above
            continue
        assert inspect.isfunction(wanted)
        found = inspect.getattr_static(launcher, name, None)
        assert inspect.isfunction(found), f"{launcher.__name__} has no method {name}"
        assert inspect.iscoroutinefunction(found) == inspect.iscoroutinefunction(wanted), name
        given = [(p.name, p.kind) for p in inspect.signature(found).parameters.values()]
        asked = [(p.name, p.kind) for p in inspect.signature(wanted).parameters.values()]
        assert given == asked, f"{launcher.__name__}.{name}{given} is not {name}{asked}"


def unreachable_container(tmp_path: Path) -> ContainerLauncher:
    return ContainerLauncher(url=f"unix://{tmp_path}/none.sock", user=None)


def test_sandboxes_ask_the_provider_they_were_given(tmp_path: Path) -> None:
    container = unreachable_container(tmp_path)
    sandboxes = Sandboxes(providers={Provider.container: container}, user=None)
    try:
        problem = sandboxes.problem(Provider.container)
        assert problem is not None and "no container engine socket" in problem
        assert sandboxes.problem(Provider.none) is None
        # bwrap was not given: it does not run here, so `auto` is none.
        assert "not set up" in (sandboxes.problem(Provider.bwrap) or "")
        assert sandboxes.resolve("auto") is Provider.none
        assert not sandboxes.limits_enforced(Provider.bwrap)
        assert sandboxes.limits_enforced(Provider.container)
        assert sandboxes.details(Provider.bwrap) == []
        # No engine runs at that socket: nothing is reaped, nothing is started to find out.
        assert sandboxes.reap_stale() == []
        assert not (tmp_path / "none.sock").exists()
    finally:
        sandboxes.close()


def test_a_provider_given_under_another_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="container given as bwrap"):
        Sandboxes(providers={Provider.bwrap: unreachable_container(tmp_path)}, user=None)


def test_bwrap_says_what_doctor_shows_of_it() -> None:
    launcher = BwrapLauncher(user=None, hierarchy=None, spares=False)
    try:
        assert not launcher.limits_enforced()  # no cgroup hierarchy: no limits
        assert launcher.reap_stale() == []
        assert any("seccomp filter" in detail for detail in launcher.details())
        assert launcher.network_problem(Network.host) is None
    finally:
        launcher.close()
