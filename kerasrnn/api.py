"""The Python API: `fit` a recipe, `load` a run or an export, and use what comes back.

The command line is a thin layer over these functions, so both give the
same answers. Every error a user can cause is raised as a
`kerasrnn.KerasRNNError` with a one-line message; nothing here exits the
process.

Example:

>>> import kerasrnn
>>> model = kerasrnn.fit("recipes/g2p_cmudict.yaml", overrides=["training.epochs=1"])
>>> model.predict(["kerasrnn"])
[{'input': 'kerasrnn', 'output': 'K EH R AH S R N'}]
>>> kerasrnn.load("saved_models/g2p_cmudict/export/g2p_cmudict/model.tflite").predict(["hello"])
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from kerasrnn import config, ensembles, export, training
from kerasrnn.data.loading import load_splits
from kerasrnn.errors import KerasRNNError
from kerasrnn.runs import Run

Row = dict[str, Any]


class InputError(KerasRNNError):
    """A request the loaded model cannot answer, or a path that is not a model."""


def _resolve(recipe: str | os.PathLike | Mapping, overrides: Sequence[str]) -> dict:
    if isinstance(recipe, Mapping):
        raw = config.apply_overrides(dict(recipe), overrides)
        return config.resolve(raw, source=raw.get("name", "recipe"))
    return config.load_recipe(os.fspath(recipe), overrides)


def fit(
    recipe: str | os.PathLike | Mapping,
    overrides: Sequence[str] = (),
    output: str | os.PathLike | None = None,
    resume: bool = False,
    force: bool = False,
    echo: Callable[[str], None] = print,
) -> Model:
    """Trains the model a recipe describes and evaluates it on held-out data.

    Args:
        recipe: a YAML file's path, or the recipe as a mapping.
        overrides: `"key.path=value"` strings, as `kerasrnn fit --set` takes.
        output: the run folder (default: `saved_models/<recipe name>`).
        resume: continue the run folder's training from its latest checkpoint.
        force: start over in a folder that holds a run, or resume with a
            changed recipe.
        echo: where progress lines go (`print`; `lambda _: None` for silence).

    Returns:
        The trained run, loaded; `metrics` holds its held-out scores.
    """
    resolved = _resolve(recipe, overrides)
    run_dir = os.fspath(output or os.path.join("saved_models", resolved["name"]))
    scores = training.fit(resolved, run_dir, echo=echo, resume=resume, force=force)
    model = load(run_dir)
    model.metrics = scores
    return model


def ensemble(
    runs: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    force: bool = False,
    echo: Callable[[str], None] = print,
) -> Model:
    """Joins trained runs of one recipe into a run that predicts with them all.

    Classifiers, taggers and CTC models join (`kerasrnn.ensembles`).

    Args:
        runs: two or more run folders trained alike (see `kerasrnn.ensembles`).
        output: the ensemble's run folder.
        force: overwrite a run already in `output`.
        echo: where progress lines go.

    Returns:
        The ensemble, loaded; `metrics` holds its validation and test scores.
    """
    scores = ensembles.ensemble([os.fspath(r) for r in runs], os.fspath(output), force=force, echo=echo)
    model = load(output)
    model.metrics = scores
    return model


def load(path: str | os.PathLike) -> Model:
    """Loads a run folder, an export folder, a SavedModel folder or a `.tflite` file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file or folder")
    try:
        if export.is_export(path):
            return Model(path, export.Exported(path))
        return Model(path, Run(path))
    except FileNotFoundError as error:
        raise InputError(str(error).strip("'\"")) from None


class Model:
    """A trained model as `load` gives it: a run, or one of its exports.

    Attributes:
        path: what was loaded.
        recipe: the resolved recipe it was trained from.
        type: the recipe's type.
        format: "run", "savedmodel" or "tflite".
        metrics: the held-out scores `fit` reported (None when loaded).
    """

    def __init__(self, path: str, source: Run | export.Exported):
        self.path = path
        self._run = source if isinstance(source, Run) else None
        self._exported = None if self._run else source
        self.recipe = source.recipe
        self.type = self.recipe["type"]
        self.format = "run" if self._run else source.format
        self.metrics = None

    def __repr__(self) -> str:
        return f"<kerasrnn.Model {self.recipe['name']!r} ({self.type}, {self.format}) at {self.path!r}>"

    @property
    def builder(self):
        """The recipe type's builder, with the model's vocabularies."""
        return self._run.builder if self._run else self._exported.builder

    def predict(self, texts: Iterable[str]) -> list[Row]:
        """One result row per text: `input`, `output` and the type's details.

        Classifiers add the likeliest labels' `probabilities`, taggers the
        `tokens` and their `tags`, language models the text's `log_prob`.
        """
        texts = _texts(texts)
        if self._exported:
            return self._exported.predict(texts)
        run = self._run
        return run.builder.predict(run.model, run.vocabs, texts)

    def evaluate(self, path: str | os.PathLike | Sequence[str] | None = None) -> dict[str, Any]:
        """Scores held-out data: the run's test split, or the examples of `path`.

        `path` (a file, or a list of files) is read in the recipe's data
        format. A recipe without a test split is scored on its validation
        split. The result starts with `split`: "test", "validation" or
        "files" (then `files` lists them). A run gives every metric of its
        type; an export gives the type's held-out metric through the
        artifact, with the number of examples.
        """
        recipe = self.recipe
        if path is not None:
            paths = [os.fspath(p) for p in ([path] if isinstance(path, (str, os.PathLike)) else path)]
            recipe = {**recipe, "data": {**recipe["data"], "test": paths}}
            head = {"split": "files", "files": paths}
        splits = load_splits(recipe, echo=lambda _: None)
        examples = splits["test"]
        if path is None:
            head = {"split": "test"}
            if not examples:
                examples = splits["valid"]
                head = {"split": "validation",
                        "note": "the recipe holds out no test split: these are validation scores"}
        if not examples:
            raise InputError(f"{self.path}: no held-out examples to evaluate on")
        if self._run:
            run = self._run
            return {**head, **run.builder.evaluate(run.model, run.vocabs, examples)}
        builder = self._exported.builder
        texts, references = builder.held_out(examples, self._exported.vocabs)
        return {**head, builder.METRIC: builder.runner_metric(self._exported, texts, references),
                "examples": len(texts)}

    def sample(
        self,
        num: int = 5,
        prompt: str | None = None,
        condition: str | None = None,
        seed: int | None = None,
        **decoding: Any,
    ) -> list[str]:
        """`num` new texts from a language model (continuing `prompt`) or a one_to_many model.

        Args:
            condition: the label a one_to_many model generates from.
            seed: the same seed gives the same samples.
            **decoding: overrides of the recipe's `decoding` section:
                `strategy` (default "sample"), `temperature`, `top_k`,
                `top_p`, `max_length`, `suppress_unk` (never generate `<unk>`).
        """
        self._generative("sample")
        decoding = {"strategy": "sample", **decoding}
        if self._run:
            run = self._run
            return run.builder.sample(run.model, run.vocabs, num, prompt=prompt, condition=condition,
                                      decoding=decoding, seed=seed)
        first = condition if self.type == "one_to_many" else (prompt or "")
        return self._exported.generate([first] * num, seed=seed, **decoding)

    def score(self, texts: Iterable[str], condition: str | None = None) -> list[Row]:
        """Each text's log-probability (natural log, end token included), mean per token, perplexity."""
        self._generative("score")
        texts = _texts(texts)
        if self._run:
            run = self._run
            extra = {"condition": condition} if condition is not None else {}
            return run.builder.score(run.model, run.vocabs, texts, **extra)
        return self._exported.builder.runner_score(self._exported, texts, condition)

    def export(
        self,
        formats: Sequence[str] | None = None,
        quantize: str | None = None,
        out: str | os.PathLike | None = None,
        batch_size: int | None = None,
        texts: Sequence[str] = (),
        echo: Callable[[str], None] = print,
    ) -> dict[str, Any]:
        """Exports a run to a SavedModel and/or TFLite, checking parity with Keras.

        Args:
            formats: "savedmodel" and/or "tflite" (default: the recipe's `export.formats`).
            quantize: also write a TFLite model quantized "float16", "dynamic"
                or "int8" (default: the recipe's `export.quantize`).
            out: the export root; the model lands in `out/<name>/`.
            batch_size: the TFLite model's fixed batch.
            texts: inputs to check parity on (default: the test split).

        Returns:
            The report written to `report.json`: artifacts, sizes, parity.
        """
        if not self._run:
            raise InputError(f"{self.path}: export needs a run folder, not an export")
        settings = self.recipe["export"]
        return export.export(
            self._run, tuple(formats or settings["formats"]), quantize or settings["quantize"],
            os.fspath(out) if out else None, batch_size, list(texts), echo=echo,
        )

    def _generative(self, what: str) -> None:
        if self.type not in ("language_model", "one_to_many"):
            kind = "run" if self._run else "export"
            raise InputError(
                f"{self.path}: a {self.type} {kind} does not generate or score text; "
                f"{what} needs a language_model or one_to_many {kind}"
            )


def _texts(texts: Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        raise InputError("give a list of texts, not one string")
    return list(texts)

