"""Training speed of recurrent layers: kerasrnn against Keras and PyTorch.

Times one forward + backward pass per layer: every case computes the same
loss, the sum of the last step's outputs (`--outputs every`: of every step's
outputs), and its gradients with respect to the weights. Prints tokens/s,
achieved GFLOP/s and that as a fraction of this machine's float32 GEMM peak,
measured in the same run by a large matmul. Cases are timed in interleaved
rounds so that noise from other processes falls on all of them alike; each
figure is the median round, and the spread column gives (slowest - fastest)
/ median over the rounds.

Both runtimes get the same threads (`--threads`, default the CPU count: intra-
and inter-op pools alike), and PyTorch flushes denormals to zero
(`torch.set_flush_denormal(True)`), as TensorFlow's CPU kernels do: denormal
numbers otherwise slow PyTorch's kernels badly (a bidirectional LSTM at 200
steps once fell to 0.09x).

Keras cases are traced with the sequence length fixed, so kerasrnn's fused
loops run compiled by XLA; the "T varies" rows trace the same layers with
the length unknown, as batches padded to their longest are, which runs the
loops uncompiled. The "matmuls alone" rows make only the matrix products of
the fused LSTM's, BiLSTM's and GRU's training step, with nothing but a cheap
op between them: the floor that these sizes set for any loop built on
TensorFlow's matrix products on this machine. The last table times the
recurrent product alone in XLA, in TensorFlow's MatMul kernel and in PyTorch.

    python benchmarks/layers_speed.py            # full run
    python benchmarks/layers_speed.py --quick    # a smoke run, seconds
"""

import argparse
import functools
import os
import time

import numpy as np
import tensorflow as tf
import keras

import kerasrnn.layers

try:
    import torch
except ImportError:
    torch = None

# (input-side, recurrent-side) matmul blocks of `units` columns per step.
GATES = {"lstm": (4, 4), "gru": (3, 3), "min_gru": (2, 0), "min_lstm": (3, 0), "bi_lstm": (8, 8)}


def kerasrnn_layer(name, **kwargs):
    return lambda units, **more: getattr(kerasrnn.layers, name)(units, **kwargs, **more)


def keras_case(make, batch, steps, units, every, varying=False):
    """With `varying`, traced with the length unknown, as batches padded to their longest are."""
    layer = make(units, return_sequences=every)
    x = tf.random.normal((batch, steps, units))
    layer(x[:, :2])

    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x))
        return tape.gradient(loss, layer.trainable_variables)

    traced = tf.function(step, input_signature=[tf.TensorSpec((batch, None if varying else steps, units))])
    return lambda: traced(x)


def torch_case(make, batch, steps, units, every):
    torch.set_flush_denormal(True)
    layer = make(units, units, batch_first=True)
    x = torch.randn(batch, steps, units)

    def step():
        layer.zero_grad()
        outputs, state = layer(x)
        # The last output of each direction, as Keras returns it: h_n (an LSTM's state[0]).
        last = state[0] if isinstance(state, tuple) else state
        (outputs if every else last).sum().backward()

    return step


def matmul_floor(shape, batch, steps, units, every):
    """Only the matmuls of a fused loop's training step, compiled by XLA: its speed floor.

    `shape` is `(gate blocks, directions)`. The products are those of
    `kerasrnn/layers/_fused.py` at these sizes: the input projection for all
    steps, one recurrent product per step forward and one per step backward,
    then the input gradient and both weight gradients over all steps. Between
    the products each step does one cheap elementwise op, so a loop with its
    gates can at best match this row. Two directions run as two compiled
    calls with no data between them, as the two layers of a bidirectional
    wrapper do, so the runtime may overlap them. Which outputs the loss sums
    (`every`) changes none of the products.
    """
    blocks, directions = shape
    width = blocks * units
    x = tf.random.normal((batch * steps, units))
    weights = [
        [tf.random.normal((units, width), stddev=0.05) for _ in range(2)] for _ in range(directions)
    ]

    def loop(body, first, reverse=False):
        ta = tf.TensorArray(tf.float32, size=steps)

        def step(t, carry, ta):
            carry, out = body(t, carry)
            return (t - 1 if reverse else t + 1, carry, ta.write(t, out))

        start = steps - 1 if reverse else 0
        done = (lambda t, *_: t >= 0) if reverse else (lambda t, *_: t < steps)
        return tf.while_loop(done, step, (start, first, ta), maximum_iterations=steps)[2].stack()

    @tf.function(jit_compile=True)
    def one_direction(x, w, u):
        xw = tf.reshape(x @ w, (steps, batch, width))

        def forward(t, h):
            h = (xw[t] + h @ u)[:, :units] * 0.5
            return h, h

        u_t = tf.transpose(u)  # transposed once, as the fused loops do

        def backward(t, dh):
            dz = xw[t] * dh[:, :1]
            return dz @ u_t, dz

        hs = loop(forward, tf.zeros((batch, units)))
        dz = tf.reshape(loop(backward, tf.ones((batch, units)), reverse=True), (-1, width))
        hs = tf.reshape(hs, (-1, units))
        grads = (tf.matmul(dz, w, transpose_b=True), tf.matmul(x, dz, transpose_a=True),
                 tf.matmul(hs, dz, transpose_a=True))
        return [tf.reduce_sum(g) for g in grads]

    @tf.function
    def step(x):
        return [one_direction(x, w, u) for w, u in weights]

    return lambda: step(x)


def set_threads(threads):
    """The same intra- and inter-op thread pools in TensorFlow and PyTorch (before any op runs)."""
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)


def gemm_peak(size, repeats):
    a = tf.random.normal((size, size))

    @tf.function
    def product():
        return tf.reduce_sum(tf.matmul(a, a))

    product()
    best = min(_time(product) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _time(fn):
    start = time.perf_counter()
    result = fn()
    if isinstance(result, (list, tf.Tensor)):
        tf.nest.map_structure(lambda t: t.numpy() if t is not None else t, result)
    return time.perf_counter() - start


def loops(name, kind):
    """The forced `fused` and `generic` loops of a kerasrnn layer, against Keras's."""
    return [
        (f"kerasrnn {name} {how}", kind, "keras", kerasrnn_layer(name, loop=how),
         f"keras {name}")
        for how in ("fused", "generic")
    ]


def bidirectional(wrapper, make):
    """`wrapper` (Keras's or kerasrnn's Bidirectional) around the layer `make` gives."""
    return lambda units, **kwargs: wrapper(make(units, **kwargs))


def cases(long_run):
    """(label, kind, framework, factory, baseline label); a floor row's factory is (gate blocks, directions)."""
    rows = []
    if not long_run:
        rows += [
            ("keras LSTM", "lstm", "keras", lambda u, **k: keras.layers.LSTM(u, **k), None),
            ("kerasrnn LSTM auto", "lstm", "keras", kerasrnn_layer("LSTM"), "keras LSTM"),
            *loops("LSTM", "lstm"),
            ("kerasrnn LSTM, T varies", "lstm", "varying", kerasrnn_layer("LSTM"), "keras LSTM"),
            ("torch LSTM", "lstm", "torch", lambda *a, **k: torch.nn.LSTM(*a, **k), "keras LSTM"),
            ("LSTM matmuls alone", "lstm", "floor", (4, 1), "keras LSTM"),
            ("keras BiLSTM", "bi_lstm", "keras",
             bidirectional(keras.layers.Bidirectional, keras.layers.LSTM), None),
            ("kerasrnn BiLSTM auto", "bi_lstm", "keras",
             bidirectional(kerasrnn.layers.Bidirectional, kerasrnn_layer("LSTM")), "keras BiLSTM"),
            ("kerasrnn BiLSTM fused", "bi_lstm", "keras",
             bidirectional(kerasrnn.layers.Bidirectional, kerasrnn_layer("LSTM", loop="fused")),
             "keras BiLSTM"),
            ("kerasrnn BiLSTM, T varies", "bi_lstm", "varying",
             bidirectional(kerasrnn.layers.Bidirectional, kerasrnn_layer("LSTM")), "keras BiLSTM"),
            ("torch BiLSTM", "bi_lstm", "torch",
             lambda *a, **k: torch.nn.LSTM(*a, bidirectional=True, **k), "keras BiLSTM"),
            ("BiLSTM matmuls alone", "bi_lstm", "floor", (4, 2), "keras BiLSTM"),
        ]
    rows += [
        ("keras GRU", "gru", "keras", lambda u, **k: keras.layers.GRU(u, **k), None),
        ("kerasrnn GRU", "gru", "keras", kerasrnn_layer("GRU"), "keras GRU"),
        ("kerasrnn GRU, T varies", "gru", "varying", kerasrnn_layer("GRU"), "keras GRU"),
        ("GRU matmuls alone", "gru", "floor", (3, 1), "keras GRU"),
    ]
    if not long_run:
        rows += [
            *loops("GRU", "gru"),
            ("torch GRU", "gru", "torch", lambda *a, **k: torch.nn.GRU(*a, **k), "keras GRU"),
        ]
    rows += [
        ("kerasrnn MinGRU", "min_gru", "keras", kerasrnn_layer("MinGRU"), "keras GRU"),
        ("kerasrnn MinLSTM", "min_lstm", "keras", kerasrnn_layer("MinLSTM"), "keras GRU"),
    ]
    return rows


def run(batch, steps, units, rounds, peak, long_run, every=False):
    built, times = {}, {}
    for label, kind, framework, make, _ in cases(long_run):
        try:
            if framework == "torch" and torch is None:
                raise ImportError("torch is not installed")
            build = {"keras": keras_case, "varying": functools.partial(keras_case, varying=True),
                     "torch": torch_case, "floor": matmul_floor}[framework]
            built[label] = build(make, batch, steps, units, every)
            built[label]()
            times[label] = []
        except Exception as error:  # a missing layer or argument is reported as n/a
            print(f"  {label}: n/a ({type(error).__name__}: {str(error)[:80]})")
    for _ in range(rounds):
        for label, step in built.items():
            times[label].append(_time(step))

    loss = "every step's outputs" if every else "the last step's outputs"
    print(f"\nbatch {batch}, {steps} steps, {units} units, forward + backward of the sum of {loss}; "
          f"median of {rounds} interleaved rounds")
    header = (
        f"{'layer':26} {'ms/step':>9} {'spread':>7} {'tokens/s':>10} {'GFLOP/s':>8} "
        f"{'% peak':>7} {'vs keras':>9}"
    )
    print(header)
    print("-" * len(header))
    medians = {label: float(np.median(t)) for label, t in times.items()}
    for label, kind, _, _, baseline in cases(long_run):
        if label not in medians:
            print(f"{label:26} {'n/a':>9} {'n/a':>7} {'n/a':>10} {'n/a':>8} {'n/a':>7} {'n/a':>9}")
            continue
        seconds = medians[label]
        given, recurrent = GATES[kind]
        flops = 3 * 2 * batch * steps * units * units * (given + recurrent)
        gflops = flops / seconds / 1e9
        if baseline is None:
            ratio = "1.00x"
        elif baseline in medians:
            ratio = f"{medians[baseline] / seconds:.2f}x"
        else:
            ratio = "n/a"
        spread = (max(times[label]) - min(times[label])) / seconds
        print(
            f"{label:26} {seconds * 1e3:9.1f} {100 * spread:6.0f}% {batch * steps / seconds:10.0f} "
            f"{gflops:8.1f} {100 * gflops / peak:6.1f}% {ratio:>9}"
        )


def recurrent_products(batch, steps, units, rounds):
    """Only the per-step recurrent product `h @ u` of each runtime, in a chain of `steps`.

    The product that every step of a loop waits for: a chain of `steps` of
    them, each followed by a tanh of `units` columns so that the next
    depends on it, at the LSTM's (4 gate blocks) and GRU's (3) widths. In
    TensorFlow as the fused loops run it (a `tf.while_loop` compiled by XLA)
    and as TensorFlow's own MatMul kernel runs it (the same loop
    uncompiled), and in PyTorch. It says how fast each runtime's matrix
    library is at these shapes, apart from any loop around it.
    """
    print(f"\nthe recurrent product alone: batch {batch}, {units} units, a chain of {steps}; "
          f"median of {rounds} interleaved rounds")
    header = f"{'product':34} {'us/product':>11} {'spread':>7} {'GFLOP/s':>8} {'vs XLA':>7}"
    print(header)
    print("-" * len(header))
    for blocks, name in ((4, "LSTM"), (3, "GRU")):
        h = np.random.default_rng(0).standard_normal((batch, units)).astype(np.float32)
        u = (0.1 * np.random.default_rng(1).standard_normal((units, blocks * units))).astype(np.float32)
        h_tf, u_tf = tf.constant(h), tf.constant(u)

        def chain(h):
            def body(t, h):
                return t + 1, tf.tanh(tf.matmul(h, u_tf)[:, :units])

            return tf.while_loop(lambda t, _: t < steps, body, (0, h))[1]

        cases = {
            f"{name}: XLA (the fused loops)": tf.function(chain, jit_compile=True),
            f"{name}: TensorFlow MatMul kernel": tf.function(chain),
        }
        runs = {label: (lambda f=f: f(h_tf).numpy()) for label, f in cases.items()}
        if torch is not None:
            h_t, u_t = torch.from_numpy(h), torch.from_numpy(u)

            def torch_chain():
                with torch.no_grad():
                    x = h_t
                    for _ in range(steps):
                        x = torch.tanh((x @ u_t)[:, :units])
                return x

            runs[f"{name}: PyTorch"] = torch_chain
        times = {label: [] for label in runs}
        for run_ in runs.values():
            run_()
        for _ in range(rounds):
            for label, run_ in runs.items():
                times[label].append(_time(run_) / steps)
        xla = float(np.median(times[f"{name}: XLA (the fused loops)"]))
        for label, t in times.items():
            median = float(np.median(t))
            gflops = 2 * batch * units * blocks * units / median / 1e9
            print(f"{label:34} {median * 1e6:11.1f} {100 * (max(t) - min(t)) / median:6.0f}% "
                  f"{gflops:8.1f} {xla / median:6.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, two rounds")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--long-steps", type=int, default=1000)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--long-only", action="store_true", help="only the 1,000-step table")
    parser.add_argument("--short-only", action="store_true", help="only the 100-step table")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="intra- and inter-op threads of both runtimes (default: the CPU count)")
    parser.add_argument("--outputs", choices=("last", "every"), default="last",
                        help="the loss sums the last step's outputs or every step's (all cases alike)")
    args = parser.parse_args()
    if args.quick:
        args.batch, args.steps, args.long_steps, args.units, args.rounds = 8, 20, 50, 32, 3
    set_threads(args.threads)

    peak = gemm_peak(512 if args.quick else 2048, 3 if args.quick else 10)
    print(f"float32 GEMM peak (tf.matmul): {peak:.1f} GFLOP/s")
    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"torch {torch.__version__ + ' (flush denormal)' if torch else 'n/a'}; "
        f"{args.threads} intra- and inter-op threads in each runtime"
    )
    every = args.outputs == "every"
    if not args.long_only:
        run(args.batch, args.steps, args.units, args.rounds, peak, long_run=False, every=every)
    if not args.short_only:
        run(args.batch, args.long_steps, args.units, args.rounds, peak, long_run=True, every=every)
    print("\nFLOPs count the matmuls only: 3 x 2 * batch * steps * units^2 * gate blocks "
          "(LSTM 4+4, BiLSTM twice that, GRU 3+3, MinGRU 2, MinLSTM 3), the 3 for forward + backward.")
    recurrent_products(args.batch, args.steps, args.units, args.rounds)


if __name__ == "__main__":
    main()
