"""Batched decoding equals decoding one sequence at a time: a NumPy toy, then a small seq2seq model."""

import numpy as np
import pytest
from tiny import TINY, tiny_recipe

from kerasrnn import config, decoding, runs, training
from kerasrnn.data.examples import Example
from kerasrnn.data.vocab import BOS_ID, EOS_ID

VOCAB, EOS, UNITS = 9, 3, 5


def reference_beam_search(step, states, start_token, eos_id, max_length, width, length_penalty):
    """The one-sequence beam search as it was before batching, kept as the reference."""
    beams, tokens, finished = [([], 0.0)], np.asarray([start_token], np.int32), []

    def norm(score, length):
        return score / (max(length, 1) ** length_penalty)

    for _ in range(max_length):
        logits, states = step(tokens, states)
        logp = decoding.log_softmax(logits)
        flat = (np.array([score for _, score in beams])[:, None] + logp).reshape(-1)
        kept, rows = [], []
        for index in np.argsort(-flat, kind="stable")[: width * 2]:
            row, token = divmod(int(index), logp.shape[-1])
            hyp = beams[row][0] + [token]
            if token == eos_id:
                finished.append((hyp[:-1], norm(flat[index], len(hyp))))
            else:
                kept.append((hyp, float(flat[index])))
                rows.append(row)
            if len(kept) == width:
                break
        if len(finished) >= width or not kept:
            break
        best_live = max(norm(s, len(h)) for h, s in kept)
        if finished and length_penalty == 0 and max(s for _, s in finished) >= best_live:
            break
        beams, states = kept, [s[rows] for s in states]
        tokens = np.asarray([h[-1] for h, _ in kept], np.int32)
    else:
        finished.extend((h, norm(s, len(h))) for h, s in beams)
    if not finished:
        finished = [(h, norm(s, len(h))) for h, s in beams]
    return max(finished, key=lambda pair: pair[1])


def toy(seed):
    """(encode, step): a small random RNN in NumPy, whose stop token grows likelier with its state."""
    rng = np.random.default_rng(seed)
    embed, recur = rng.normal(0, 1, (VOCAB, UNITS)), rng.normal(0, 0.8, (UNITS, UNITS))
    out, table = rng.normal(0, 1.5, (UNITS, VOCAB)), rng.normal(0, 1.5, (VOCAB, VOCAB))
    calls = []

    def encode(sources):
        """Sources of any length -> the final state of each, read alone."""
        states = np.zeros((len(sources), UNITS))
        for i, source in enumerate(sources):
            for token in source:
                states[i] = np.tanh(states[i] @ recur + embed[token])
        return [states, np.zeros((len(sources), 1))]

    def step(tokens, states):
        calls.append(len(tokens))
        h = np.tanh(states[0] @ recur + embed[np.asarray(tokens)])
        count = states[1] + 1
        logits = table[np.asarray(tokens)] + h @ out
        logits[:, EOS] += 0.5 * count[:, 0] * (h[:, 0] > 0) - 2.5
        return logits, [h, count]

    return encode, step, calls


def sources(seed, count=24):
    rng = np.random.default_rng(seed)
    return [list(rng.integers(4, VOCAB, rng.integers(0, 9))) for _ in range(count)]


@pytest.mark.parametrize("width, length_penalty, max_length", [
    (1, 0.0, 12), (2, 0.0, 12), (4, 0.0, 12), (4, 0.6, 12), (4, 1.0, 12), (5, 0.0, 4), (3, 0.6, 1), (3, 0.0, 0),
])
@pytest.mark.parametrize("seed", range(3))
def test_many_sources_at_once_equal_one_at_a_time(seed, width, length_penalty, max_length):
    encode, step, calls = toy(seed)
    rows = sources(seed)
    states = encode(rows)
    start = [2] * len(rows)
    batched = decoding.beam_search_batch(step, states, start, EOS, max_length, width, length_penalty)
    assert len(calls) <= max_length
    for i, (tokens, score) in enumerate(batched):
        alone = [s[i : i + 1] for s in states]
        want_tokens, want_score = reference_beam_search(step, alone, 2, EOS, max_length, width, length_penalty)
        assert tokens == want_tokens, i
        np.testing.assert_allclose(score, want_score, rtol=1e-12)
        assert decoding.beam_search(step, alone, 2, EOS, max_length, width, length_penalty)[0] == tokens
    settings = {"strategy": "beam", "max_length": max_length, "beam_width": width,
                "length_penalty": length_penalty}
    assert decoding.decode(step, states, start, EOS, settings) == [t for t, _ in batched]


def test_the_toy_covers_early_stops_and_running_out_of_steps():
    encode, step, calls = toy(0)
    rows = sources(0)
    found = decoding.beam_search_batch(step, encode(rows), [2] * len(rows), EOS, 12, 4)
    lengths = [len(tokens) for tokens, _ in found]
    # Some rows stop early, some run to max_length, and the batch shrinks as rows finish.
    assert min(lengths) < 6 and max(lengths) == 12
    assert calls[0] == len(rows) and calls[-1] < calls[1]


@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_candidates_hold_each_rows_best_tokens_with_their_log_probabilities(dtype, tolerance):
    rng = np.random.default_rng(0)
    for _ in range(100):
        # Small integers, so many values tie, also at the cut.
        # Vocabularies under and over the blocks' bound (64 columns each).
        vocab = int(rng.choice([rng.integers(1, 20), rng.integers(500, 2000)]))
        logits = rng.integers(-3, 3, (int(rng.integers(1, 5)), vocab)).astype(dtype)
        if vocab > 100:
            logits += rng.normal(0, 2, logits.shape).astype(dtype) * (rng.random() < 0.5)
        count = int(rng.integers(1, 10))
        rows, tokens, logp = decoding._candidates(logits, count)
        want = decoding.log_softmax(logits)
        np.testing.assert_allclose(logp, want[rows, tokens], rtol=0, atol=tolerance)
        assert list(zip(rows, tokens)) == sorted(zip(rows, tokens))
        for row in range(len(logits)):
            best = set(np.argsort(-logits[row], kind="stable")[:count].tolist())
            assert best <= set(tokens[rows == row].tolist())


@pytest.fixture(scope="module")
def g2p(tmp_path_factory):
    """(builder, vocabs, model) of a tiny G2P encoder-decoder fitted for a few epochs."""
    tmp = tmp_path_factory.mktemp("g2p")
    recipe = tiny_recipe("seq2seq", tmp)
    recipe = config.resolve({**recipe, "model": {**recipe["model"], "decoder": "rnn", "upsample": 1},
                             "training": {**TINY, "epochs": 3}})
    training.fit(recipe, str(tmp / "run"), echo=lambda _: None)
    run = runs.Run(str(tmp / "run"))
    return run.builder, run.vocabs, run.model


WORDS = ["a", "zebra", "export", "x", "hello", "characteristically", "of", "queue", "", "mississippi"]


@pytest.mark.parametrize("width, length_penalty", [(4, 0.0), (3, 0.6)])
def test_a_model_decodes_a_batch_as_each_source_alone(g2p, width, length_penalty):
    builder, vocabs, model = g2p
    encoder, step_model = builder.inference_models(model, vocabs)

    def step(tokens, states):
        out = step_model([np.asarray(tokens, np.int32)[:, None], *states], training=False)
        return np.asarray(out[0]), [np.asarray(s) for s in out[1:]]

    def encode(words):
        ids = builder.ids("source", vocabs, np.asarray(words, object)).to_tensor().numpy()
        # One padding step at least, as `generator` gives an empty source alone.
        ids = np.pad(ids, [(0, 0), (0, max(0, 1 - ids.shape[1]))])
        out = encoder(ids, training=False)
        return [np.asarray(s) for s in (out if isinstance(out, (list, tuple)) else [out])]

    max_length = builder.recipe["decoding"]["max_length"]
    batched = decoding.beam_search_batch(step, encode(WORDS), [BOS_ID] * len(WORDS), EOS_ID, max_length,
                                         width, length_penalty)
    ends = 0
    for word, (tokens, score) in zip(WORDS, batched):
        want_tokens, want_score = reference_beam_search(step, encode([word]), BOS_ID, EOS_ID, max_length,
                                                        width, length_penalty)
        assert tokens == want_tokens, word
        np.testing.assert_allclose(score, want_score, rtol=1e-5, atol=1e-5)
        ends += len(tokens) < max_length
    assert ends, "no hypothesis stopped before max_length"


@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_generate_and_predict_equal_one_source_at_a_time(g2p, strategy):
    builder, vocabs, model = g2p
    builder.recipe = {**builder.recipe, "decoding": {**builder.recipe["decoding"], "strategy": strategy}}
    generate = builder.generator(model, vocabs)
    together = generate(WORDS, batch_size=4)
    assert together == [generate([w])[0] for w in WORDS]
    assert [row["output"] for row in builder.predict(model, vocabs, WORDS)] == [
        builder.tokenizers["target"].join(t) for t in together
    ]


@pytest.mark.parametrize("verbose", [0, 1])
def test_evaluate_shows_decoding_progress_on_stderr_unless_silent(g2p, capsys, verbose):
    builder, vocabs, model = g2p
    builder.recipe = {**builder.recipe, "training": {**builder.recipe["training"], "verbose": verbose}}
    examples = [Example(source=w, target="HH AH") for w in WORDS if w]
    result = builder.evaluate(model, vocabs, examples)
    assert result["examples"] == len(examples)
    captured = capsys.readouterr()
    assert ("Decoding" in captured.err) == bool(verbose)
    assert "Decoding" not in captured.out
