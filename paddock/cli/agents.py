"""`paddock agents`: which agent CLIs are installed; install one (no server needed)."""

from __future__ import annotations

import typer

from paddock.cli.console import console, new_table
from paddock.config import Settings

agents_app = typer.Typer(no_args_is_help=True, help="Agent CLIs: which are installed; install one.")


@agents_app.command("list")
def agents_list() -> None:
    """Every agent profile: installed or not, its version and variants."""
    from paddock.services.agents import AgentService

    table = new_table("profile", "installed", "version", "variants", "executable")
    for agent in AgentService(Settings()).list_with_versions():
        table.add_row(
            agent.name,
            "yes" if agent.installed else "no",
            agent.version or "",
            ", ".join(v.name for v in agent.variants),
            agent.executable or f"({agent.program} not found)",
        )
    console().print(table)


@agents_app.command("install")
def agents_install(name: str) -> None:
    """Install an agent CLI from its registry into Paddock's agents dir (no server needed)."""
    from paddock.domain.errors import PaddockError
    from paddock.services.agents import AgentService

    service = AgentService(Settings())
    try:
        profile = service.registry.get(name)
        if profile.adapter.package is not None:
            package = profile.adapter.package
            console().print(f"installing {package.requirement} into {service.installs.root} …")
        executable = service.installs.install(profile.adapter)
    except PaddockError as exc:
        console(stderr=True).print(f"[red]error[/red] [bold]{exc.code}[/bold]: {exc.message}")
        raise typer.Exit(1) from exc
    version = service.installs.version(executable) or "version unknown"
    console().print(f"[green]installed[/green] {name} {version}: {executable}")
