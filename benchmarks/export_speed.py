"""Speed and size of exported models: Keras, SavedModel and TFLite side by side.

A character language model (embedding 64, one LSTM of 256 units, 64 symbols,
untrained: speed does not depend on the weights) is exported as `kerasrnn
export` does, and timed:

- per sequence: reading 100 tokens (`encode`) through the Keras model, the
  SavedModel signature, the TFLite model `kerasrnn export` writes (a WHILE
  loop of one recurrent product per step, every step's input projection made
  before it; float and dynamic-range quantized), the same network with
  TFLite's fused UNIDIRECTIONAL_SEQUENCE_LSTM op (the form int8 exports
  use), the cell called step by step in a WHILE loop (the form other cells
  export in), and, as the baseline, what TensorFlow's
  converter makes of the same network written with `keras.layers.LSTM` at
  batch 1 with builtin ops only (Keras's step function in a WHILE loop);
- per generated token: greedy generation at batch 1 by a host loop over the
  Keras step model called eagerly, over the SavedModel `step` signature and
  over the TFLite `step` signature (float and quantized), against an in-graph
  `tf.function` generation loop (a `tf.while_loop` over the step model). The
  float TFLite model is timed twice: through LiteRT's `SignatureRunner`
  (which resizes and allocates on every call) and through the export
  runner's `Signature` (which does so only when input shapes change);
- per word, a CTC G2P model (the default G2P recipe's network: embedding 64,
  2-layer bidirectional GRU 192, two steps of scores per letter, untrained):
  one pass of scores for a 13-letter word through the Keras model, the
  SavedModel's `logits` signature and the float `.tflite` (through the export
  runner's `Signature`), each followed by the host's greedy collapse
  (`decoding.ctc_greedy`), as `kerasrnn predict` on an export does.

Cases run in interleaved rounds, so load from other processes falls on all of
them alike; each figure is the median round. Read the ratios.

    python benchmarks/export_speed.py            # full run
    python benchmarks/export_speed.py --quick    # a smoke run
    python benchmarks/export_speed.py --step-only --rounds 41   # the float step, two runners
"""

import argparse
import functools
import os
import tempfile
import time
from unittest import mock

import keras
import numpy as np
import tensorflow as tf

from kerasrnn import builders, config, decoding, export
from kerasrnn.builders.graph import greedy_graph
from kerasrnn.builders.language_model import LanguageModel
from kerasrnn.data.vocab import SPECIALS, Vocabulary
from kerasrnn.export import lstm_rewrite, signatures, tflite
from kerasrnn.export.runner import Signature
from kerasrnn.layers.ctc import BLANK_ID

SYMBOLS = 64
SEQUENCE = 100


def char_lm(tmp):
    # The recipe names a training file; nothing is read from it.
    with open(os.path.join(tmp, "unused.txt"), "w") as f:
        f.write("a\n")
    recipe = config.resolve({
        "name": "bench_char_lm", "type": "language_model",
        "data": {"train": os.path.join(tmp, "unused.txt"), "source": {"tokenizer": "char"}},
        "model": {"cell": "lstm", "units": 256, "embedding_dim": 64, "dropout": 0.0},
    })
    chars = [chr(ord("!") + i) for i in range(SYMBOLS - len(SPECIALS))]
    vocabs = {"source": Vocabulary(list(SPECIALS) + chars)}
    builder = LanguageModel(recipe).attach(vocabs)
    model = builder.build(vocabs)
    return recipe, builder, vocabs, model


def size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def lite_runners(blob):
    # The interpreter `kerasrnn export`'s runner uses (one thread, XNNPACK).
    interpreter = tflite.interpreter(blob)
    runners = {k: interpreter.get_signature_runner(k) for k in interpreter.get_signature_list()}
    return interpreter, runners


def cases():
    """{name: (bytes, sequence function, generation function)}; None where not measured."""
    tmp = tempfile.mkdtemp(prefix="export_speed_")
    recipe, builder, vocabs, model = char_lm(tmp)
    reader, step = models = builder.export_models(model, vocabs)
    zeros = [np.zeros((1, 256), np.float32) for _ in range(2)]
    sequence = np.random.default_rng(0).integers(4, SYMBOLS, (1, SEQUENCE)).astype(np.int32)
    out = {}

    model.save(os.path.join(tmp, "model.keras"))

    def keras_sequence():
        reader([sequence, *zeros], training=False)

    def keras_generate(n):
        token, states = np.array([[2]], np.int32), zeros
        for _ in range(n):
            logits, *states = step([token, *states], training=False)
            token = tf.argmax(logits, -1, output_type=tf.int32)[:, None]

    out["Keras (eager call)"] = (size(os.path.join(tmp, "model.keras")), keras_sequence, keras_generate)

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)])
    def in_graph(n):
        # The loop `greedy_graph` compiles into a SavedModel's serving_default.
        logits = tf.zeros([1, SYMBOLS])
        states = [tf.zeros([1, 256]), tf.zeros([1, 256])]
        return greedy_graph(step, states, logits, -1, n)

    in_graph(tf.constant(2))
    out["tf.function loop (in-graph)"] = (None, None, lambda n: in_graph(tf.constant(n)))

    folder = os.path.join(tmp, "savedmodel")
    export.save_savedmodel(builder, vocabs, models, folder)
    loaded = tf.saved_model.load(folder)
    encode_sig, step_sig = loaded.signatures["encode"], loaded.signatures["step"]
    seq_tensor = tf.constant(sequence)

    def saved_generate(n):
        token, states = tf.constant([2]), {"state_0": tf.constant(zeros[0]), "state_1": tf.constant(zeros[1])}
        for _ in range(n):
            result = step_sig(token=token, **states)
            token = tf.argmax(result.pop("logits"), -1, output_type=tf.int32)
            states = result

    out["SavedModel (signatures)"] = (size(folder), lambda: encode_sig(tokens=seq_tensor), saved_generate)

    def lite_case(blob, reuse=False):
        interpreter, runners = lite_runners(blob)
        encode, step_runner = runners["encode"], runners["step"]
        if reuse:
            encode, step_runner = Signature(encode), Signature(step_runner)
        # One call each allocates every subgraph's tensors before any reset.
        encode(tokens=sequence)
        step_runner(token=np.array([2], np.int32), state_0=zeros[0], state_1=zeros[1])

        def run_sequence():
            interpreter.reset_all_variables()
            encode(tokens=sequence)

        def generate(n):
            token, states = np.array([2], np.int32), {"state_0": zeros[0], "state_1": zeros[1]}
            for _ in range(n):
                result = step_runner(token=token, **states)
                token = np.argmax(result.pop("logits"), -1).astype(np.int32)
                states = result

        run_sequence()
        generate(2)
        return len(blob), run_sequence, generate

    float_blob = export.convert_tflite(builder, models, 1)
    out[PLAIN] = lite_case(float_blob)
    out[REUSED] = lite_case(float_blob, reuse=True)
    out["TFLite dynamic int8"] = lite_case(export.convert_tflite(builder, models, 1, "dynamic"))
    fused = functools.partial(signatures.lite_call, fused_lstm=True)
    with mock.patch.object(signatures, "lite_call", lambda model, inputs, fused_lstm=False: fused(model, inputs)):
        blob = export.convert_tflite(builder, models, 1)
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in export.op_list(blob)
    size_fused, sequence_fused, _ = lite_case(blob, reuse=True)
    out["TFLite float (fused LSTM op)"] = (size_fused, sequence_fused, None)
    with mock.patch.object(lstm_rewrite, "is_plain_lstm", lambda layer: False):
        blob = export.convert_tflite(builder, models, 1)
    assert "WHILE" in export.op_list(blob)
    size_while, sequence_while, _ = lite_case(blob, reuse=True)
    out["TFLite float (cell-by-cell WHILE)"] = (size_while, sequence_while, None)
    out[BASELINE] = keras_while_case(sequence)
    return out


BASELINE = "TFLite float (Keras LSTM, WHILE)"
PLAIN = "TFLite float"
REUSED = "TFLite float, no re-allocation"
WORD = "pronunciation"


def ctc_cases():
    """{name: (bytes, per-word function)}: a CTC G2P model's one pass of scores, then the collapse."""
    tmp = tempfile.mkdtemp(prefix="export_speed_ctc_")
    recipe = config.load_recipe(os.path.join(os.path.dirname(__file__), "..", "recipes", "g2p_cmudict.yaml"),
                                ["training.precision=float32"])
    builder = builders.get(recipe)
    letters = [chr(ord("a") + i) for i in range(26)] + ["'", "-", "."]
    phones = ("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH "
              "UH UW V W Y Z ZH").split()
    vocabs = {"source": Vocabulary(list(SPECIALS) + letters), "target": Vocabulary(list(SPECIALS) + phones)}
    builder.attach(vocabs)
    model = builder.build(vocabs)
    models = builder.export_models(model, vocabs)
    ids = builder.ids("source", vocabs, tf.constant([WORD])).to_tensor().numpy()
    out = {}
    model.save(os.path.join(tmp, "model.keras"))
    keras_model = models[0]

    def keras_word():
        decoding.ctc_greedy(np.asarray(keras_model({"source": ids}, training=False)), blank=BLANK_ID)

    out["Keras (eager call)"] = (size(os.path.join(tmp, "model.keras")), keras_word)
    folder = os.path.join(tmp, "savedmodel")
    export.save_savedmodel(builder, vocabs, models, folder)
    logits_sig = tf.saved_model.load(folder).signatures["logits"]
    name = next(iter(logits_sig.structured_input_signature[1]))
    tensor = tf.constant(ids)

    def saved_word():
        decoding.ctc_greedy(logits_sig(**{name: tensor})["logits"].numpy(), blank=BLANK_ID)

    out["SavedModel (logits signature)"] = (size(folder), saved_word)
    blob = export.convert_tflite(builder, models, 1)
    _, runners = lite_runners(blob)
    runner = Signature(runners.get("logits") or runners[tflite.LITE_DEFAULT])
    lite_name = next(iter(runner.get_input_details()))

    def lite_word():
        decoding.ctc_greedy(runner(**{lite_name: ids})["logits"], blank=BLANK_ID)

    for fn in (keras_word, saved_word, lite_word):
        fn()
    out["TFLite float"] = (len(blob), lite_word)
    return out


def keras_while_case(sequence):
    """The same network as keras.layers.LSTM, converted at batch 1 with builtins only."""
    tokens = keras.Input((SEQUENCE,), batch_size=1, dtype="int32")
    x = keras.layers.Embedding(SYMBOLS, 64)(tokens)
    _, h, c = keras.layers.LSTM(256, return_state=True)(x)
    converter = tf.lite.TFLiteConverter.from_keras_model(keras.Model(tokens, [h, c]))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    blob = converter.convert()
    interpreter = tflite.interpreter(blob)
    runner = interpreter.get_signature_runner()
    name = next(iter(runner.get_input_details()))

    def run_sequence():
        runner(**{name: sequence})

    run_sequence()
    return len(blob), run_sequence, None


def step_only(rounds, tokens):
    """The float `step` per token: LiteRT's SignatureRunner against the runner's `Signature`, many rounds."""
    tmp = tempfile.mkdtemp(prefix="export_speed_step_")
    _, builder, vocabs, model = char_lm(tmp)
    blob = export.convert_tflite(builder, builder.export_models(model, vocabs), 1)
    zeros = np.zeros((1, 256), np.float32)
    generators, outputs = {}, {}
    for name in ("SignatureRunner (resize + allocate every call)", "Signature (allocate on shape change)"):
        _, runners = lite_runners(blob)
        runner = runners["step"] if name.startswith("SignatureRunner") else Signature(runners["step"])

        def generate(n, runner=runner):
            token, states, out = np.array([2], np.int32), {"state_0": zeros, "state_1": zeros}, []
            for _ in range(n):
                result = runner(token=token, **states)
                token = np.argmax(result.pop("logits"), -1).astype(np.int32)
                states = result
                out.append(int(token[0]))
            return out

        outputs[name] = generate(tokens)
        generators[name] = generate
    assert len(set(map(tuple, outputs.values()))) == 1, "the two runners generated different tokens"
    times = {name: [] for name in generators}
    for _ in range(rounds):
        for name, generate in generators.items():
            times[name].append(measure(lambda: generate(tokens), 1) / tokens)
    medians = {name: float(np.median(t)) for name, t in times.items()}
    first = next(iter(medians.values()))
    print(f"TFLite float step, char LM LSTM 256, batch 1, one thread: {tokens} greedy tokens per round, "
          f"median of {rounds} interleaved rounds (same tokens generated)")
    for name, t in times.items():
        print(f"  {name:48} {medians[name] * 1e6:7.1f} us/token  (rounds {min(t) * 1e6:.1f}-{max(t) * 1e6:.1f})"
              f"  {first / medians[name]:.2f}x")


def measure(fn, repeats):
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and tokens")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--skip-ctc", action="store_true", help="without the CTC G2P table")
    parser.add_argument("--step-only", action="store_true",
                        help="only the float step through LiteRT's runner and ours, --rounds rounds")
    args = parser.parse_args()
    if args.step_only:
        step_only(args.rounds, 200)
        return
    rounds = 2 if args.quick else args.rounds
    tokens = 100 if args.quick else 500
    eager_tokens = 10 if args.quick else 30
    load = os.getloadavg()[0]
    table = cases()
    seq, tok = {k: [] for k in table}, {k: [] for k in table}
    for _ in range(rounds):
        for name, (_, run_sequence, generate) in table.items():
            if run_sequence:
                seq[name].append(measure(run_sequence, 2 if "Keras" in name else 10))
            if generate:
                n = eager_tokens if "eager" in name else tokens
                tok[name].append(measure(lambda: generate(n), 1) / n)
    tok_rounds = tok
    seq = {k: float(np.median(v)) for k, v in seq.items() if v}
    tok = {k: float(np.median(v)) for k, v in tok.items() if v}
    base_seq = seq[BASELINE]
    base_tok = tok["tf.function loop (in-graph)"]
    print(f"{'':34} {'size':>9} {'ms/sequence':>12} {'x vs Keras WHILE':>17} {'us/token':>10} {'x vs in-graph':>14}")
    for name, (size_bytes, _, _) in table.items():
        cells = [f"{size_bytes / 2**20:.2f} MiB" if size_bytes else "-"]
        cells += [f"{seq[name] * 1e3:.2f}", f"{base_seq / seq[name]:.2f}"] if name in seq else ["-", "-"]
        cells += [f"{tok[name] * 1e6:.0f}", f"{base_tok / tok[name]:.2f}"] if name in tok else ["-", "-"]
        print(f"{name:34} {cells[0]:>9} {cells[1]:>12} {cells[2]:>17} {cells[3]:>10} {cells[4]:>14}")
    print(f"({SEQUENCE}-token sequences at batch 1; greedy generation at batch 1, "
          f"{tokens} tokens per run, {eager_tokens} for the eager Keras call; median of {rounds} rounds; "
          f"1-minute load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)")
    spread = {k: (min(v) * 1e6, max(v) * 1e6) for k, v in tok_rounds.items() if v}
    plain, reused = PLAIN, REUSED
    print(f"TFLite float step: {tok[plain] * 1e6:.1f} us/token through LiteRT's SignatureRunner "
          f"(rounds {spread[plain][0]:.1f}-{spread[plain][1]:.1f}), {tok[reused] * 1e6:.1f} us without "
          f"re-allocation (rounds {spread[reused][0]:.1f}-{spread[reused][1]:.1f}): {tok[plain] / tok[reused]:.2f}x")
    if args.skip_ctc:
        return
    words = ctc_cases()
    per_word = {k: [] for k in words}
    for _ in range(rounds):
        for name, (_, fn) in words.items():
            per_word[name].append(measure(fn, 5 if "Keras" in name else 50))
    base = float(np.median(per_word["Keras (eager call)"]))
    print(f"\nCTC G2P (BiGRU 192 x 2, upsample 2), one {len(WORD)}-letter word, scores + greedy collapse")
    print(f"{'':34} {'size':>9} {'ms/word':>9} {'rounds':>15} {'x vs Keras':>11}")
    for name, (size_bytes, _) in words.items():
        median = float(np.median(per_word[name]))
        low, high = min(per_word[name]) * 1e3, max(per_word[name]) * 1e3
        print(f"{name:34} {size_bytes / 2**20:>5.2f} MiB {median * 1e3:>9.3f} {f'{low:.3f}-{high:.3f}':>15} "
              f"{base / median:>10.1f}x")


if __name__ == "__main__":
    main()
