"""The `kerasrnn` command line: a thin Click group over the package.

Exit codes: 0 ok, 1 the job failed, 2 usage, recipe or input error.
"""

import contextlib
import json
import os
import sys

import click

import kerasrnn

EXIT_FAILED = 1
EXIT_USAGE = 2


class InputError(click.ClickException):
    """A user's mistake (recipe, data, paths): one line, exit code 2."""

    exit_code = EXIT_USAGE


@contextlib.contextmanager
def reported_errors():
    """Turns the package's errors into one-line messages and exit codes."""
    from kerasrnn.config import RecipeError
    from kerasrnn.data.errors import DataError

    try:
        yield
    except RecipeError as e:
        for line in e.errors:
            click.echo(f"Error: {line}", err=True)
        sys.exit(EXIT_USAGE)
    except (DataError, FileNotFoundError) as e:
        raise InputError(str(e).strip("'\""))
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except click.ClickException:
        raise
    except Exception as e:
        if os.environ.get("KERASRNN_DEBUG"):
            raise
        click.echo(
            f"Error: {type(e).__name__}: {e} (set KERASRNN_DEBUG=1 for the traceback)",
            err=True,
        )
        sys.exit(EXIT_FAILED)


SET_HELP = "Override a recipe key, e.g. --set training.epochs=2 (repeatable)."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(kerasrnn.__version__, prog_name="kerasrnn")
def cli():
    """Train recurrent text models from YAML recipes and export them.

    Exit codes: 0 ok, 1 the job failed, 2 usage, recipe or input error.
    """


@cli.command()
@click.argument("recipes", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
def validate(recipes, overrides):
    """Check RECIPES without training; report every problem, one per line."""
    from kerasrnn.config import RecipeError, load_recipe

    failed = False
    for path in recipes:
        try:
            load_recipe(path, overrides)
        except RecipeError as e:
            failed = True
            for line in e.errors:
                click.echo(f"{path}: {line}" if not line.startswith(str(path)) else line, err=True)
        else:
            click.echo(f"{path}: ok")
    sys.exit(EXIT_USAGE if failed else 0)


@cli.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False),
    help="Run folder to write (default: saved_models/<recipe name>/).",
)
def fit(recipe, overrides, output):
    """Train the model a RECIPE describes and evaluate it on held-out data.

    The run folder receives the resolved recipe, the model, its vocabularies,
    history.csv, metrics.json and training curves as a PNG.
    """
    with reported_errors():
        from kerasrnn import training
        from kerasrnn.config import load_recipe

        resolved = load_recipe(recipe, overrides)
        run_dir = output or os.path.join("saved_models", resolved["name"])
        result = training.fit(resolved, run_dir, echo=click.echo)
    click.echo(f"Run saved to {run_dir}")
    for name, value in result.get("test", {}).items():
        click.echo(f"  test {name}: {_format_metric(name, value)}")


def _format_metric(name, value):
    if isinstance(value, float) and (name.endswith("_rate") or "accuracy" in name):
        return f"{value:.2%}"
    return f"{value:,.4g}" if isinstance(value, (int, float)) else str(value)


DATA_DIR_HELP = "Cache folder (default: $KERASRNN_DATA, else ~/.cache/kerasrnn)."


@cli.group()
def datasets():
    """List the public data sets of the catalog and fetch them."""


@datasets.command("list")
@click.option("--data-dir", type=click.Path(file_okay=False), help=DATA_DIR_HELP)
def datasets_list(data_dir):
    """List each data set: name, task, size, source and whether it is cached."""
    with reported_errors():
        from kerasrnn.data import catalog

        rows = catalog.listing(data_dir)
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        cached = "cached" if row["cached"] else "-"
        click.echo(f"{row['name']:<{width}}  {row['size']:>8}  {cached:<6}  {row['task']}  [{row['source']}]")


@datasets.command("fetch")
@click.argument("names", nargs=-1, required=True)
@click.option("--data-dir", type=click.Path(file_okay=False), help=DATA_DIR_HELP)
@click.option(
    "--mirror",
    type=click.Path(exists=True, file_okay=False),
    help="Offline mirror folder laid out like the cache (default: $KERASRNN_DATA_MIRROR).",
)
@click.option("--quiet", "-q", is_flag=True, help="Hide the download progress bars.")
def datasets_fetch(names, data_dir, mirror, quiet):
    """Fetch the data sets NAMES into the cache, checking every file's sha256."""
    with reported_errors():
        from kerasrnn.data import catalog

        for name in names:
            catalog.get(name)
        for name in names:
            paths = catalog.fetch(name, data_dir=data_dir, mirror=mirror, progress=not quiet)
            for split, path in paths.items():
                shown = path if isinstance(path, str) else f"{len(path)} files in {os.path.dirname(path[0])}"
                click.echo(f"{name} {split}: {shown}")


def _load_run(run_dir):
    from kerasrnn.runs import Run

    return Run(run_dir)


def _emit(rows, as_json, show):
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            click.echo(show(row))


@cli.command()
@click.argument("run", type=click.Path(exists=True))
@click.argument("texts", nargs=-1)
@click.option(
    "--input",
    "input_file",
    type=click.File("r", encoding="utf-8"),
    help="Read one input per line from this file ('-' for standard input).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def predict(run, texts, input_file, as_json):
    """Run a trained model on TEXTS (or --input lines) and print its answers.

    Labels come with their probabilities, taggers give a tag per token, and
    sequence models print the decoded sequence.
    """
    with reported_errors():
        texts = list(texts) + ([line.rstrip("\n") for line in input_file] if input_file else [])
        if not texts:
            raise InputError("give TEXTS or --input FILE")
        loaded = _load_run(run)
        rows = loaded.builder.predict(loaded.model, loaded.vocabs, texts)
    _emit(rows, as_json, lambda r: f"{r['input']}\t{r['output']}")


@cli.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--data",
    "data_files",
    multiple=True,
    type=click.Path(exists=True),
    help="Evaluate on this file (the recipe's format); default: the run's test split.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def evaluate(run, data_files, as_json):
    """Score a trained RUN on held-out data with the metrics of its type."""
    with reported_errors():
        from kerasrnn import training

        loaded = _load_run(run)
        recipe = loaded.recipe
        if data_files:
            recipe = {**recipe, "data": {**recipe["data"], "test": list(data_files)}}
        examples = training.load_splits(recipe, echo=lambda _: None)["test"]
        if not examples:
            raise InputError(f"{run}: no held-out examples to evaluate on")
        result = loaded.builder.evaluate(loaded.model, loaded.vocabs, examples)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        for name, value in result.items():
            click.echo(f"{name}: {_format_metric(name, value)}")


def main():
    cli(prog_name="kerasrnn")
