"""The `kerasrnn` command line: a thin Click group over the package.

Exit codes: 0 ok, 1 the job failed, 2 usage, recipe or input error.
"""

import click

import kerasrnn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(kerasrnn.__version__, prog_name="kerasrnn")
def cli():
    """Train recurrent text models from YAML recipes and export them.

    Exit codes: 0 ok, 1 the job failed, 2 usage, recipe or input error.
    """


def main():
    cli(prog_name="kerasrnn")
