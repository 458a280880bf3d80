"""`mldoctor completion bash|zsh|fish`: print the shell completion script to source or install."""

from __future__ import annotations

import click

_INSTALL = {
    "bash": 'eval "$(mldoctor completion bash)"   # in ~/.bashrc',
    "zsh": 'eval "$(mldoctor completion zsh)"    # in ~/.zshrc',
    "fish": "mldoctor completion fish > ~/.config/fish/completions/mldoctor.fish",
}


def completion_script(shell: str, prog: str = "mldoctor") -> str:
    """The completion script click generates for `shell`."""
    from click.shell_completion import get_completion_class

    from doctor.cli import cli

    cls = get_completion_class(shell)
    if cls is None:
        raise click.BadParameter(f"unsupported shell {shell!r}", param_hint="SHELL")
    var = "_" + prog.replace("-", "_").replace(" ", "_").upper() + "_COMPLETE"
    return cls(cli, {}, prog, var).source()


@click.command(epilog="Install: " + "; ".join(_INSTALL.values()))
@click.argument("shell", type=click.Choice(sorted(_INSTALL)))
def completion(shell: str) -> int:
    """Print the completion script for SHELL (bash, zsh or fish)."""
    click.echo(completion_script(shell), nl=False)
    return 0
