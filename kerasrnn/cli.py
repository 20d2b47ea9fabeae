"""The `kerasrnn` command line: a thin Click group over the package.

Exit codes: 0 ok, 1 the job failed, 2 usage, recipe or input error.

Only the commands that build or run a model start TensorFlow, which takes
seconds: they import the modules that need it inside the command (after
`start_tensorflow()`), so `--help`, `--version`, `validate`, `datasets` and
shell completion answer at once. TensorFlow's start-up lines are kept off
the console unless KERASRNN_DEBUG or TF_CPP_MIN_LOG_LEVEL is set.
"""

import contextlib
import json
import os
import sys

import click

import kerasrnn
from kerasrnn import config
from kerasrnn.data import catalog
from kerasrnn.errors import KerasRNNError, RecipeError

EXIT_FAILED = 1
EXIT_USAGE = 2
# `kerasrnn.export.FORMATS` and `QUANTIZE`, without importing export (and TensorFlow) for --help.
EXPORT_FORMATS = ("savedmodel", "tflite")
QUANTIZE = config.SCHEMA["export"]["quantize"].choices
# Set by `main()`: the console script keeps TensorFlow's start-up lines quiet.
_quiet = False


def quiet_tensorflow(environ=os.environ):
    """Asks TensorFlow for no log lines below FATAL, unless the user chose otherwise.

    Returns whether the console is to be kept quiet: not with KERASRNN_DEBUG
    set, nor when the user set TF_CPP_MIN_LOG_LEVEL (then their level holds).
    """
    if environ.get("KERASRNN_DEBUG") or "TF_CPP_MIN_LOG_LEVEL" in environ:
        return False
    # 3, not 2: "failed call to cuInit" on a machine without a GPU is an ERROR line.
    environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return True


def start_tensorflow():
    """Imports TensorFlow for a command that needs it, its start-up lines unseen.

    TensorFlow's libraries log while they load, before they read
    TF_CPP_MIN_LOG_LEVEL: absl's "All log messages before
    absl::InitializeLog()", the oneDNN notice and "Could not find cuda
    drivers", twice, as a second library (the profiler's) carries its own
    copy of the logger. Only pointing standard error at the null device
    while they load keeps them off; a Python error in the import still shows.
    """
    if not _quiet or "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


class InputError(click.ClickException):
    """A user's mistake on the command line: one line, exit code 2."""

    exit_code = EXIT_USAGE


@contextlib.contextmanager
def reported_errors():
    """Turns the package's errors into one-line messages and exit codes."""
    try:
        yield
    except KerasRNNError as e:
        for line in e.lines:
            click.echo(f"Error: {line}", err=True)
        sys.exit(e.exit_code)
    except FileNotFoundError as e:
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
JSON_HELP = "Print JSON instead of text."


def _inputs(texts, input_file):
    """TEXTS and the lines of --input, at least one of them."""
    texts = list(texts) + ([line.rstrip("\n") for line in input_file] if input_file else [])
    if not texts:
        raise InputError("give TEXTS or --input FILE")
    return texts


def _emit(rows, as_json, show):
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            click.echo(show(row))


def _format_metric(name, value):
    if isinstance(value, float) and (name.endswith("_rate") or "accuracy" in name):
        return f"{value:.2%}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.4g}" if isinstance(value, float) else str(value)


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
    failed = False
    for path in recipes:
        try:
            config.load_recipe(path, overrides)
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
@click.option("--output", "-o", type=click.Path(file_okay=False),
              help="Run folder to write (default: saved_models/<recipe name>/).")
@click.option("--resume", is_flag=True, help="Continue the run folder's training from its latest checkpoint.")
@click.option("--force", is_flag=True,
              help="Start over in a folder that holds a run (removing only the files a run writes), "
                   "or resume with a changed recipe.")
def fit(recipe, overrides, output, resume, force):
    """Train the model a RECIPE describes and evaluate it on held-out data.

    The run folder receives the resolved recipe, the model, its vocabularies,
    history.csv, metrics.json, training curves as a PNG, TensorBoard logs and
    a checkpoint per epoch; after a crash or a kill, --resume continues it.
    """
    with reported_errors():
        start_tensorflow()
        run = kerasrnn.fit(recipe, overrides, output, resume=resume, force=force, echo=click.echo)
    click.echo(f"Run saved to {run.path}")
    for name, value in run.metrics.get("test", {}).items():
        click.echo(f"  test {name}: {_format_metric(name, value)}")


@cli.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--output", "-o", type=click.Path(file_okay=False), required=True,
              help="Run folder to write the ensemble to.")
@click.option("--force", is_flag=True, help="Overwrite a run already in the output folder.")
def ensemble(runs, output, force):
    """Join RUNS of one recipe into one model that predicts with them all.

    Classifiers and taggers average the members' scores (a CRF tagger its
    CRF weights too); CTC models let each member propose its best outputs,
    and the one the members find likeliest together wins. Train the members
    with training.seed varied and data.split_seed fixed; the output is a run
    folder (predict, evaluate and export take it), scored on the validation
    and test splits. Language models, generators and encoder-decoders are
    not joined.
    """
    with reported_errors():
        start_tensorflow()
        run = kerasrnn.ensemble(runs, output, force=force, echo=click.echo)
    click.echo(f"Run saved to {run.path}")
    for split in ("valid", "test"):
        for name, value in run.metrics.get(split, {}).items():
            click.echo(f"  {split} {name}: {_format_metric(name, value)}")


DATA_DIR_HELP = "Cache folder (default: $KERASRNN_DATA, else ~/.cache/kerasrnn)."


@cli.group()
def datasets():
    """List the public data sets of the catalog and fetch them."""


@datasets.command("list")
@click.option("--data-dir", type=click.Path(file_okay=False), help=DATA_DIR_HELP)
def datasets_list(data_dir):
    """List each data set: name, task, size, source and whether it is cached."""
    with reported_errors():
        rows = catalog.listing(data_dir)
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        cached = "cached" if row["cached"] else "-"
        click.echo(f"{row['name']:<{width}}  {row['size']:>8}  {cached:<6}  {row['task']}  [{row['source']}]")


@datasets.command("fetch")
@click.argument("names", nargs=-1, required=True)
@click.option("--data-dir", type=click.Path(file_okay=False), help=DATA_DIR_HELP)
@click.option("--mirror", type=click.Path(exists=True, file_okay=False),
              help="Offline mirror folder laid out like the cache (default: $KERASRNN_DATA_MIRROR).")
@click.option("--quiet", "-q", is_flag=True, help="Hide the download progress bars.")
def datasets_fetch(names, data_dir, mirror, quiet):
    """Fetch the data sets NAMES into the cache, checking every file's sha256."""
    with reported_errors():
        for name in names:
            catalog.get(name)
        for name in names:
            paths = catalog.fetch(name, data_dir=data_dir, mirror=mirror, progress=not quiet)
            for split, path in paths.items():
                shown = path if isinstance(path, str) else f"{len(path)} files in {os.path.dirname(path[0])}"
                click.echo(f"{name} {split}: {shown}")


@cli.command()
@click.argument("run", type=click.Path(exists=True))
@click.argument("texts", nargs=-1)
@click.option("--input", "input_file", type=click.File("r", encoding="utf-8"),
              help="Read one input per line from this file ('-' for standard input).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def predict(run, texts, input_file, as_json):
    """Run a trained model on TEXTS (or --input lines) and print its answers.

    RUN is a run folder, an export folder, a SavedModel or a .tflite file.
    Labels come with their probabilities, taggers give a tag per token, and
    sequence models print the decoded sequence.
    """
    with reported_errors():
        start_tensorflow()
        rows = kerasrnn.load(run).predict(_inputs(texts, input_file))
    _emit(rows, as_json, lambda r: f"{r['input']}\t{r['output']}")


@cli.command()
@click.argument("run", type=click.Path(exists=True))
@click.option("--data", "data_files", multiple=True, type=click.Path(exists=True),
              help="Evaluate on this file (the recipe's format); default: the run's test split.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def evaluate(run, data_files, as_json):
    """Score a trained RUN (or an export) on held-out data with the metrics of its type."""
    with reported_errors():
        start_tensorflow()
        result = kerasrnn.load(run).evaluate(list(data_files) or None)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        for name, value in result.items():
            click.echo(f"{name}: {_format_metric(name, value)}")


@cli.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
def plot(run):
    """Draw a RUN's training curves and, for classifiers, its confusion matrix.

    The PNGs are written into the run folder; their paths are printed.
    """
    with reported_errors():
        start_tensorflow()
        from kerasrnn import training
        from kerasrnn.runs import Run

        paths = training.plot_run(Run(run))
    for path in paths:
        click.echo(path)


@cli.command()
@click.argument("run", type=click.Path(exists=True))
@click.option("--prompt", default=None, help="Text the samples continue (language models).")
@click.option("--condition", default=None, help="The label a one_to_many model generates from.")
@click.option("--num", "-n", type=click.IntRange(1, 10000), default=5, show_default=True, help="How many samples.")
@click.option("--temperature", type=click.FloatRange(0.0), default=None,
              help="Sampling temperature; 0 is greedy (default: the recipe's).")
@click.option("--top-k", type=click.IntRange(0), default=None, help="Sample among the k likeliest tokens; 0 for all.")
@click.option("--top-p", type=click.FloatRange(0.0, 1.0), default=None, help="Sample within this probability mass.")
@click.option("--no-unk", "suppress_unk", is_flag=True, default=None,
              help="Never generate <unk> (default: the recipe's decoding -> suppress_unk).")
@click.option("--max-length", type=click.IntRange(1), default=None,
              help="Longest sample in tokens (default: the recipe's).")
@click.option("--seed", type=int, default=None, help="Seed: the same seed gives the same samples.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def sample(run, prompt, condition, num, temperature, top_k, top_p, suppress_unk, max_length, seed, as_json):
    """Generate new sequences from a language_model or one_to_many RUN.

    Tokens are drawn from the model's distribution (temperature, top-k and
    top-p filter it); with --seed the samples are reproducible.
    """
    options = {"temperature": temperature, "top_k": top_k, "top_p": top_p, "max_length": max_length,
               "suppress_unk": suppress_unk or None}
    with reported_errors():
        start_tensorflow()
        texts = kerasrnn.load(run).sample(
            num, prompt=prompt, condition=condition, seed=seed,
            **{k: v for k, v in options.items() if v is not None},
        )
    if as_json:
        click.echo(json.dumps(texts, ensure_ascii=False, indent=2))
    else:
        separator = "\n---\n" if any("\n" in t for t in texts) else "\n"
        click.echo(separator.join(texts))


@cli.command()
@click.argument("run", type=click.Path(exists=True))
@click.argument("texts", nargs=-1)
@click.option("--input", "input_file", type=click.File("r", encoding="utf-8"),
              help="Read one text per line from this file ('-' for standard input).")
@click.option("--condition", default=None, help="The label texts are scored under (one_to_many).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def score(run, texts, input_file, condition, as_json):
    """Rank TEXTS by how likely a language_model RUN finds them, likeliest first.

    Prints each text's log-probability (natural log, the end token
    included), its mean per token, its perplexity, and how many of its
    tokens the model read as <unk> (each scored as "some rare word").
    """
    with reported_errors():
        start_tensorflow()
        model = kerasrnn.load(run)
        rows = model.score(_inputs(texts, input_file), condition=condition)
    rows.sort(key=lambda row: -row["log_prob"])
    _emit(
        rows, as_json,
        lambda r: f"{r['log_prob']:10.3f}  {r['mean_log_prob']:8.4f}/token  ppl {r['perplexity']:8.3f}  "
                  f"unk {r['unk']}  {r['text']}",
    )


@cli.group()
def data():
    """Look at a recipe's data before training on it."""


@data.command("inspect")
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--png", type=click.Path(dir_okay=False),
              help="Where to draw the train split's length histograms (default: ./<name>_data.png).")
def data_inspect(recipe, overrides, png):
    """Report what a RECIPE's data looks like in its tokens.

    Per split: example counts, length statistics, how many examples each
    side's max_length truncates, the out-of-vocabulary rate against the
    vocabulary training would build from train, and the label balance.
    """
    with reported_errors():
        resolved = config.load_recipe(recipe, overrides)
        start_tensorflow()
        from kerasrnn import training
        from kerasrnn.data.inspect import format_report

        reports = training.inspect_data(resolved, png or f"{resolved['name']}_data.png", echo=click.echo)
    for split, report in reports.items():
        click.echo(f"{split}:")
        click.echo("\n".join(f"  {line}" for line in format_report(report).splitlines()))


@cli.command("export")
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice([*EXPORT_FORMATS, "all"]),
              help="What to write (default: the recipe's export -> formats).")
@click.option("--quantize", type=click.Choice(QUANTIZE),
              help="Also write a quantized TFLite model (default: export -> quantize).")
@click.option("--out", type=click.Path(file_okay=False),
              help="Export root; the model lands in OUT/<name>/ (default: RUN/export).")
@click.option("--batch-size", type=click.IntRange(min=1), help="Fixed TFLite batch (default: export -> batch_size).")
@click.option("--text", "texts", multiple=True, help="Check parity on this input (repeatable; default: test split).")
def export_command(run, fmt, quantize, out, batch_size, texts):
    """Export a trained RUN to a SavedModel and/or TFLite, checking parity with Keras.

    The SavedModel (OUT/<name>/1/) takes raw strings; the TFLite models take
    token ids and use builtin ops only. Parity with Keras is printed.
    """
    formats = EXPORT_FORMATS if fmt == "all" else ([fmt] if fmt else None)
    with reported_errors():
        start_tensorflow()
        report = kerasrnn.load(run).export(formats, quantize, out, batch_size, texts, echo=click.echo)
    click.echo(f"Exported to {report['folder']}")


@cli.group()
def diagnose():
    """Look inside recurrent models: how gradients flow through time."""


@diagnose.command("gradients")
@click.argument("target", metavar="RECIPE_OR_RUN", type=click.Path(exists=True))
@click.option("--length", type=click.IntRange(2, 100_000), default=None,
              help="Sequence length T (default: 100 for fresh models; the median held-out length for a run).")
@click.option("--cells", default=None, metavar="CELL,CELL",
              help="Build fresh models of these cells, e.g. simple_rnn,lstm,gru (default for a recipe: those three and its own).")
@click.option("--out", type=click.Path(dir_okay=False),
              help="PNG to write (default: RUN/gradient_norms.png, or saved_models/<name>/gradient_norms.png for a recipe).")
def diagnose_gradients(target, length, cells, out):
    """Plot |dL/dx_t| against t, log scale, to show vanishing gradients.

    For a RECIPE, the recipe's recurrent stack is built fresh (random,
    seeded init) once per cell and fed standard-normal inputs of T steps;
    for a RUN folder, its trained stack reads held-out inputs. L is the sum
    of the last step's output. Prints the PNG's path and, per curve, the
    first step's gradient norm over the last step's.
    """
    names = [c.strip() for c in cells.split(",") if c.strip()] if cells else None
    unknown = [c for c in names or () if c not in config.CELLS]
    if unknown:
        raise InputError(f"--cells: unknown {', '.join(unknown)}; known: {', '.join(config.CELLS)}")
    with reported_errors():
        start_tensorflow()
        from kerasrnn import diagnostics

        path, curves = diagnostics.gradients(target, length=length, cells=names, out=out)
    click.echo(path)
    for label, norms in curves.items():
        click.echo(f"  {label}: |dL/dx_1| / |dL/dx_T| = {norms[0] / max(norms[-1], 1e-300):.3g}")


def main():
    """The console script: quiet TensorFlow, then the command line."""
    global _quiet
    _quiet = quiet_tensorflow()
    cli(prog_name="kerasrnn")
