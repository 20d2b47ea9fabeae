"""The installed `kerasrnn` command: only its own lines on the console, and TensorFlow only where needed."""

import os
import shutil
import subprocess
import sys

import pytest

import kerasrnn
from kerasrnn import cli, config, export
from kerasrnn.config import model_section
from kerasrnn.data import tokenizers, vectors
from kerasrnn.layers import registry
from support import RECIPES, ROOT

POS = str(RECIPES / "pos_conllu.yaml")
# Runs the console script in this interpreter and reports whether TensorFlow was imported.
PROBE = (
    "import runpy, sys\n"
    "sys.argv = sys.argv[1:]\n"
    "try:\n"
    "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
    "except SystemExit as stop:\n"
    "    code = stop.code\n"
    "print('tensorflow imported:', 'tensorflow' in sys.modules)\n"
)


@pytest.fixture(scope="module")
def script():
    found = shutil.which("kerasrnn", path=os.path.dirname(sys.executable)) or shutil.which("kerasrnn")
    assert found, "the kerasrnn console script is not installed"
    return found


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("KERASRNN_DEBUG", "TF_CPP_MIN_LOG_LEVEL")}
    return {**env, **extra}


def run(args, **env):
    return subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=ROOT, env=clean_env(**env))


def test_version_prints_one_line(script):
    result = run([script, "--version"])
    assert result.returncode == 0
    assert result.stdout == f"kerasrnn, version {kerasrnn.__version__}\n"
    assert result.stderr == ""


def test_validate_prints_only_its_own_lines(script):
    good = run([script, "validate", POS])
    assert (good.returncode, good.stdout, good.stderr) == (0, f"{POS}: ok\n", "")
    bad = run([script, "validate", POS, "--set", "name=../up", "--set", "data.columns.target=upox"])
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.splitlines() == [
        f"{POS}: name: '../up' is not a plain folder name: use letters, digits, _, - and ., "
        "with no '..' (the run folder is saved_models/<name>/)",
    ]
    columns = run([script, "validate", POS, "--set", "data.columns.target=upox"])
    assert columns.returncode == 2
    assert columns.stderr.splitlines() == [
        f"{POS}: data -> columns -> target: 'upox' is not a CoNLL-U column (did you mean 'upos'?); "
        "name one of id, form, lemma, upos, xpos, feats, head, deprel, deps, misc or give its number, 0 to 9"
    ]


@pytest.mark.parametrize(
    "args, env",
    [
        (["--version"], {}),
        (["--help"], {}),
        (["fit", "--help"], {}),
        (["validate", POS], {}),
        (["datasets", "list"], {}),
        ([], {"_KERASRNN_COMPLETE": "bash_complete", "COMP_WORDS": "kerasrnn da", "COMP_CWORD": "1"}),
    ],
    ids=["version", "help", "fit-help", "validate", "datasets-list", "completion"],
)
def test_light_commands_do_not_import_tensorflow(script, args, env):
    result = run([sys.executable, "-c", PROBE, script, *args], **env)
    assert result.stdout.splitlines()[-1] == "tensorflow imported: False", result.stdout + result.stderr
    assert result.stderr == ""


def test_a_model_command_prints_only_its_answer(script):
    # TensorFlow starts here, and its start-up lines (absl, oneDNN, CUDA) stay off the console.
    colours = str(ROOT / "tests" / "fixtures" / "release_0_1" / "colours" / "run")
    result = run([script, "predict", colours, "sky blue"])
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1 and result.stdout.startswith("sky blue\t")
    assert result.stderr == ""


def test_quiet_unless_asked_otherwise():
    environ = {}
    assert cli.quiet_tensorflow(environ) and environ == {"TF_CPP_MIN_LOG_LEVEL": "3"}
    debug = {"KERASRNN_DEBUG": "1"}
    assert not cli.quiet_tensorflow(debug) and "TF_CPP_MIN_LOG_LEVEL" not in debug
    chosen = {"TF_CPP_MIN_LOG_LEVEL": "0"}
    assert not cli.quiet_tensorflow(chosen) and chosen == {"TF_CPP_MIN_LOG_LEVEL": "0"}


def test_names_written_out_for_the_light_commands_match_their_modules():
    assert config.CELLS == tuple(registry.CELLS)
    assert config.TOKENIZERS == tokenizers.KINDS
    assert model_section.MODEL["embeddings"]["format"].choices == vectors.FORMATS
    assert cli.EXPORT_FORMATS == export.FORMATS and cli.QUANTIZE == export.QUANTIZE
