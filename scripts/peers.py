#!/usr/bin/env python3
"""The workloads of `compare bench`, written in the frameworks its users would otherwise pick.

`compare bench` and this script time the same five workloads, so that the two can be run side
by side (scripts/bench-vs-peers.sh) and the ratio of their rates read off one table. Every
workload is float32; weights are untrained and data synthetic (only the time matters).

  workload  definition
  --------  ----------------------------------------------------------------------------------
  ddpm2d    DDPM training step. 2-D data (8 Gaussians on a ring of radius 2, std 0.1), batch
            512. ε-network: MLP on [x_t (2), sinusoidal embedding of t (32)] -> 128 -> 128 ->
            128 (SiLU) -> 2, loss = mean squared error on ε, t ~ U{1..1000}, linear β from
            1e-4 to 0.02, Adam lr 1e-3.
  vae784    VAE training step. 784-dim data uniform in [0, 1], batch 128. Encoder
            784-512-512 -> (μ, log σ²) of 32, decoder 32-512-512-784 Bernoulli logits, ReLU
            hidden activations, loss = −ELBO (one z per example, KL in closed form), Adam.
  ddpm784   as ddpm2d with 784-dim data uniform in [−1, 1], hidden width 512, batch 128.
  iwae      the vae784 model's importance-weighted log p(x) with K = 1000 samples, no
            gradients; 100 data points, 10 per call (10,000 samples); data points per second.
  gemm      square sgemm C = A·B at n = 256, 512, 1024, in GFLOP/s (2n³ flops per product).
            numpy (its BLAS) is the reference; jnp.dot and torch.mm are reported as extras.

A training step = sample the noise and timesteps + forward + backward + Adam update, all in the
timed call (the data batch comes from a pool of 16 generated beforehand).

Timing rules (the same as `compare bench`):
  * the first call, which includes any JIT compilation, is timed apart and excluded;
  * a warm-up of --warmup-s seconds follows and sizes the repetitions: each repetition runs as
    many calls as take about --target-s seconds;
  * the figure is the median over --reps repetitions (steady state), and over --rounds rounds
    the median of the rounds' medians;
  * the machine may be shared: a repetition during which other processes used more than
    --idle-threshold cores is discarded and retried (up to --max-attempts × --reps times), and
    each repetition first waits up to --idle-timeout seconds for a quiet machine;
  * every framework and thread count runs in a process of its own, started with its CPU
    affinity restricted to the first N cores and OMP / MKL / OPENBLAS_NUM_THREADS = N, so that
    every thread pool is sized before its library loads; threadpoolctl limits the BLAS pools
    and torch.set_num_threads(N) the PyTorch pool; JAX at N = 1 also gets
    XLA_FLAGS=--xla_cpu_multi_thread_eigen=false. Other environment variables pass unchanged.

Usage (from the repository root; .venv-peers/ and peer-results.* are git-ignored):
  python3 -m venv .venv-peers && .venv-peers/bin/pip install numpy jax optax threadpoolctl
  .venv-peers/bin/python scripts/peers.py --frameworks jax numpy --threads 2 --out peer-results
  .venv-peers/bin/python scripts/peers.py --frameworks jax --workloads ddpm2d --threads 1 --rounds 1
PyTorch is optional (`pip install torch`, a large install): --frameworks torch, or
torch-compile for the same models under torch.compile. Everything at 1 and 2 threads with the
defaults takes about 30 minutes.

Outputs: <out>.json = {"machine", "args", "runs"}; each run (one framework, thread count and
round) holds "framework", "threads", "round", "version", "workloads" {name: rate} and "gemm"
{"256"/"512"/"1024": rate}, each rate {"median", "min", "max", "calls_per_rep", "reps", "clean",
"discarded", "others_load", "first_call_s"} (or {"error"}). <out>.md is a readable summary
(rates, approximate achieved GFLOP/s, first-call seconds, spread over rounds).
"""

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

WORKLOADS = ["ddpm2d", "vae784", "ddpm784", "iwae", "gemm"]
FRAMEWORKS = ["numpy", "torch", "jax", "torch-compile"]
DEFAULT_FRAMEWORKS = ["numpy", "torch", "jax"]
GEMM_SIZES = [256, 512, 1024]

# The problems ---------------------------------------------------------------------------------
TIMESTEPS = 1000
BETA_FIRST, BETA_LAST = 1e-4, 0.02
EMBEDDING_WIDTH = 32
LEARNING_RATE = 1e-3
DDPM = {"ddpm2d": dict(dim=2, hidden=128, batch=512),
        "ddpm784": dict(dim=784, hidden=512, batch=128)}
VAE = dict(dim=784, hidden=512, latent=32, batch=128)
IWAE = dict(points=100, samples=1000, points_per_call=10)
POOL_SIZE = 16  # data batches generated once and cycled, so that no call pays for data


def ddpm_layer_sizes(dim, hidden):
    return [dim + EMBEDDING_WIDTH, hidden, hidden, hidden, dim]


def vae_layer_sizes():
    d, h, latent = VAE["dim"], VAE["hidden"], VAE["latent"]
    return [d, h, h, 2 * latent], [latent, h, h, d]


def multiply_adds(sizes):
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def gflop_per_unit(workload):
    """Matrix-product GFLOP per step (per data point for iwae), to read a rate as GFLOP/s.

    Training counts three products per layer (forward, gradient of the input, gradient of the
    weight); iwae is forward only: one encoder pass and K decoder passes per data point.
    """
    if workload in DDPM:
        c = DDPM[workload]
        return 3 * 2 * c["batch"] * multiply_adds(ddpm_layer_sizes(c["dim"], c["hidden"])) / 1e9
    encoder, decoder = vae_layer_sizes()
    if workload == "vae784":
        return 3 * 2 * VAE["batch"] * (multiply_adds(encoder) + multiply_adds(decoder)) / 1e9
    if workload == "iwae":
        return 2 * (IWAE["samples"] * multiply_adds(decoder) + multiply_adds(encoder)) / 1e9
    return None


def data_pool(workload, seed=0):
    """The batches a workload cycles through (numpy float32 arrays)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    if workload == "ddpm2d":
        def ring(n):
            angles = rng.integers(0, 8, n) * (2 * math.pi / 8)
            centres = 2.0 * np.stack([np.cos(angles), np.sin(angles)], 1)
            return (centres + 0.1 * rng.standard_normal((n, 2))).astype(np.float32)
        return [ring(DDPM[workload]["batch"]) for _ in range(POOL_SIZE)]
    if workload == "ddpm784":
        c = DDPM[workload]
        return [rng.uniform(-1, 1, (c["batch"], c["dim"])).astype(np.float32) for _ in range(POOL_SIZE)]
    if workload == "vae784":
        return [rng.uniform(0, 1, (VAE["batch"], VAE["dim"])).astype(np.float32) for _ in range(POOL_SIZE)]
    if workload == "iwae":
        x = rng.uniform(0, 1, (IWAE["points"], VAE["dim"])).astype(np.float32)
        step = IWAE["points_per_call"]
        return [x[i:i + step] for i in range(0, len(x), step)]
    raise ValueError(workload)


def noise_schedule():
    """(√ᾱ_t, √(1 − ᾱ_t)) for t = 1..T of the linear schedule, accumulated in float64."""
    import numpy as np
    betas = np.linspace(BETA_FIRST, BETA_LAST, TIMESTEPS, dtype=np.float64)
    alpha_bar = np.cumprod(1.0 - betas)
    return np.sqrt(alpha_bar).astype(np.float32), np.sqrt(1.0 - alpha_bar).astype(np.float32)


def embedding_frequencies():
    """Frequencies 10000^(−i/half), i < half, of the sinusoidal embedding [sin(t ω), cos(t ω)]."""
    import numpy as np
    half = EMBEDDING_WIDTH // 2
    return np.exp(-math.log(10000.0) * np.arange(half) / half).astype(np.float32)


# Timing -----------------------------------------------------------------------------------------
# On a shared machine a repetition is only trusted if nobody else was busy meanwhile. The load of
# the others is the whole machine's busy time (/proc/stat, steal included) minus this process's
# own CPU time, per second of wall time.
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def clocks():
    """(machine busy seconds, this process's CPU seconds, wall seconds)."""
    import resource
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:9]]
    busy = (sum(ticks) - ticks[3] - ticks[4]) / TICKS_PER_SECOND  # all but idle and iowait
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return busy, usage.ru_utime + usage.ru_stime, time.perf_counter()


def load_of_others(start, end):
    """Cores used by other processes between two clocks() readings."""
    return max(0.0, (end[0] - start[0]) - (end[1] - start[1])) / max(1e-9, end[2] - start[2])


def wait_until_quiet(args):
    """Waits (at most --idle-timeout s) for a 0.3 s window in which the others stayed under the threshold."""
    deadline = time.perf_counter() + args.idle_timeout
    while True:
        start = clocks()
        time.sleep(0.3)
        load = load_of_others(start, clocks())
        if load <= args.idle_threshold or time.perf_counter() > deadline:
            return load


def steady_rate(call, finish, units_per_call, args):
    """Units per second of `call` in steady state; `finish` blocks until queued work is done."""
    began = time.perf_counter()
    call()
    finish()
    first_call_s = time.perf_counter() - began  # compilation, if any, is paid here

    # Warm-up: caches, allocators and thread pools settle; its pace sizes the repetitions.
    wait_until_quiet(args)
    calls, began = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - began < args.warmup_s:
        call()
        calls += 1
    finish()
    calls_per_rep = max(1, round(args.target_s / ((time.perf_counter() - began) / calls)))

    clean, noisy = [], []
    for _ in range(args.reps * args.max_attempts):
        wait_until_quiet(args)
        start = clocks()
        for _ in range(calls_per_rep):
            call()
        finish()
        end = clocks()
        rate = calls_per_rep * units_per_call / (end[2] - start[2])
        load = load_of_others(start, end)
        (clean if load <= args.idle_threshold else noisy).append((rate, load))
        if len(clean) >= args.reps:
            break
    # Never a quiet repetition: report the noisy ones, marked clean = False.
    kept = clean or noisy
    rates = [rate for rate, _ in kept]
    return dict(median=statistics.median(rates), min=min(rates), max=max(rates),
                calls_per_rep=calls_per_rep, reps=len(kept), clean=bool(clean),
                discarded=len(noisy) if clean else 0,
                others_load=round(max(load for _, load in kept), 3),
                first_call_s=first_call_s)


# PyTorch ----------------------------------------------------------------------------------------
def torch_workloads(compiled):
    """Builders of (call, finish) for the four model workloads in PyTorch (eager, or compiled)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(0)
    maybe_compile = torch.compile if compiled else (lambda f: f)

    def mlp(sizes, activation):
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(activation())
        return nn.Sequential(*layers)

    def cycle(pool):
        pool, state = [torch.from_numpy(x) for x in pool], {"i": 0}

        def next_batch():
            state["i"] += 1
            return pool[state["i"] % len(pool)]
        return next_batch

    def training(model, loss_of, next_batch):
        optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
        loss_of = maybe_compile(loss_of)

        def step():
            loss = loss_of(next_batch())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return step, (lambda: None)  # eager on the CPU: nothing is left queued

    def ddpm(name):
        c = DDPM[name]
        network = mlp(ddpm_layer_sizes(c["dim"], c["hidden"]), nn.SiLU)
        signal, noise = (torch.from_numpy(v) for v in noise_schedule())
        frequencies = torch.from_numpy(embedding_frequencies())

        def loss_of(x0):
            t = torch.randint(1, TIMESTEPS + 1, (x0.shape[0],))
            eps = torch.randn_like(x0)
            xt = signal[t - 1, None] * x0 + noise[t - 1, None] * eps
            angles = t[:, None].float() * frequencies[None, :]
            inputs = torch.cat([xt, torch.sin(angles), torch.cos(angles)], dim=1)
            return F.mse_loss(network(inputs), eps)
        return training(network, loss_of, cycle(data_pool(name)))

    encoder_sizes, decoder_sizes = vae_layer_sizes()
    latent = VAE["latent"]
    encoder, decoder = mlp(encoder_sizes, nn.ReLU), mlp(decoder_sizes, nn.ReLU)

    def vae():
        def loss_of(x):
            mu, log_var = encoder(x).chunk(2, dim=1)
            z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
            reconstruction = F.binary_cross_entropy_with_logits(decoder(z), x, reduction="none").sum(1)
            kl = 0.5 * (mu.square() + log_var.exp() - 1.0 - log_var).sum(1)
            return (reconstruction + kl).mean()
        return training(nn.ModuleList([encoder, decoder]), loss_of, cycle(data_pool("vae784")))

    def iwae():
        next_points = cycle(data_pool("iwae"))
        k, log_2pi = IWAE["samples"], math.log(2 * math.pi)

        @maybe_compile
        def log_px(x):
            mu, log_var = encoder(x).chunk(2, dim=1)                   # [P, L]
            eps = torch.randn(k, x.shape[0], latent)                    # [K, P, L]
            z = mu + torch.exp(0.5 * log_var) * eps
            logits = decoder(z)                                         # [K, P, D]
            log_px_z = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)
            log_pz = -0.5 * (z.square() + log_2pi).sum(-1)
            log_qz = -0.5 * (eps.square() + log_2pi + log_var).sum(-1)  # z − μ = σ ε
            return torch.logsumexp(log_px_z + log_pz - log_qz, dim=0) - math.log(k)

        def call():
            with torch.inference_mode():
                return log_px(next_points())
        return call, (lambda: None)

    return {"ddpm2d": lambda: ddpm("ddpm2d"), "ddpm784": lambda: ddpm("ddpm784"),
            "vae784": vae, "iwae": iwae}


def torch_gemm(n):
    import torch
    a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
    return (lambda: torch.mm(a, b, out=c)), (lambda: None)


# JAX --------------------------------------------------------------------------------------------
def jax_workloads():
    """Builders of (call, finish) for the four model workloads in JAX + optax, each step one jit."""
    import jax
    import jax.numpy as jnp
    import optax

    def init_mlp(key, sizes):
        # PyTorch's default: weights and biases uniform in ±1/√fan_in.
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            key, key_w, key_b = jax.random.split(key, 3)
            bound = 1.0 / math.sqrt(a)
            layers.append((jax.random.uniform(key_w, (a, b), jnp.float32, -bound, bound),
                           jax.random.uniform(key_b, (b,), jnp.float32, -bound, bound)))
        return layers

    def mlp(layers, x, activation):
        for w, b in layers[:-1]:
            x = activation(x @ w + b)
        w, b = layers[-1]
        return x @ w + b

    def bernoulli_nll(logits, x):
        return jax.nn.softplus(logits) - x * logits

    optimizer = optax.adam(LEARNING_RATE)

    def training(params, loss_of, pool):
        pool = [jnp.asarray(x) for x in pool]

        def step(params, opt_state, key, x):
            # The key is split inside the jitted step, so sampling the noise is part of the step.
            key, sub = jax.random.split(key)
            loss, grads = jax.value_and_grad(loss_of)(params, sub, x)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, key, loss

        # Donating the parameters and optimizer state lets XLA update them in place, as the
        # other frameworks do.
        step = jax.jit(step, donate_argnums=(0, 1))
        state = {"params": params, "opt": optimizer.init(params), "key": jax.random.PRNGKey(1), "i": 0}

        def call():
            state["i"] += 1
            state["params"], state["opt"], state["key"], state["loss"] = step(
                state["params"], state["opt"], state["key"], pool[state["i"] % len(pool)])
        # JAX dispatches asynchronously: a repetition ends when its last step has finished.
        return call, lambda: jax.block_until_ready((state["params"], state["loss"]))

    def ddpm(name):
        c = DDPM[name]
        signal, noise = (jnp.asarray(v) for v in noise_schedule())
        frequencies = jnp.asarray(embedding_frequencies())

        def loss_of(params, key, x0):
            key_t, key_eps = jax.random.split(key)
            t = jax.random.randint(key_t, (x0.shape[0],), 1, TIMESTEPS + 1)
            eps = jax.random.normal(key_eps, x0.shape, jnp.float32)
            xt = signal[t - 1, None] * x0 + noise[t - 1, None] * eps
            angles = t[:, None].astype(jnp.float32) * frequencies[None, :]
            inputs = jnp.concatenate([xt, jnp.sin(angles), jnp.cos(angles)], axis=1)
            return jnp.mean((mlp(params, inputs, jax.nn.silu) - eps) ** 2)

        params = init_mlp(jax.random.PRNGKey(0), ddpm_layer_sizes(c["dim"], c["hidden"]))
        return training(params, loss_of, data_pool(name))

    encoder_sizes, decoder_sizes = vae_layer_sizes()
    latent = VAE["latent"]
    vae_params = (init_mlp(jax.random.PRNGKey(2), encoder_sizes),
                  init_mlp(jax.random.PRNGKey(3), decoder_sizes))

    def vae():
        def loss_of(params, key, x):
            encoder, decoder = params
            mu, log_var = jnp.split(mlp(encoder, x, jax.nn.relu), 2, axis=1)
            z = mu + jnp.exp(0.5 * log_var) * jax.random.normal(key, mu.shape, jnp.float32)
            reconstruction = bernoulli_nll(mlp(decoder, z, jax.nn.relu), x).sum(1)
            kl = 0.5 * (mu ** 2 + jnp.exp(log_var) - 1.0 - log_var).sum(1)
            return jnp.mean(reconstruction + kl)
        # A copy: the training step donates (invalidates) its parameters, and iwae reuses these.
        return training(jax.tree_util.tree_map(jnp.array, vae_params), loss_of, data_pool("vae784"))

    def iwae():
        chunks = [jnp.asarray(x) for x in data_pool("iwae")]
        k, log_2pi = IWAE["samples"], math.log(2 * math.pi)

        @jax.jit
        def log_px(params, key, x):
            encoder, decoder = params
            mu, log_var = jnp.split(mlp(encoder, x, jax.nn.relu), 2, axis=1)
            eps = jax.random.normal(key, (k, x.shape[0], latent), jnp.float32)
            z = mu + jnp.exp(0.5 * log_var) * eps
            log_px_z = -bernoulli_nll(mlp(decoder, z, jax.nn.relu), x).sum(-1)
            log_pz = -0.5 * (z ** 2 + log_2pi).sum(-1)
            log_qz = -0.5 * (eps ** 2 + log_2pi + log_var).sum(-1)
            return jax.nn.logsumexp(log_px_z + log_pz - log_qz, axis=0) - math.log(k)

        state = {"i": 0, "key": jax.random.PRNGKey(4)}

        def call():
            state["i"] += 1
            state["key"], sub = jax.random.split(state["key"])
            state["value"] = log_px(vae_params, sub, chunks[state["i"] % len(chunks)])
        return call, lambda: jax.block_until_ready(state["value"])

    return {"ddpm2d": lambda: ddpm("ddpm2d"), "ddpm784": lambda: ddpm("ddpm784"),
            "vae784": vae, "iwae": iwae}


def jax_gemm(n):
    import jax
    import jax.numpy as jnp
    key_a, key_b = jax.random.split(jax.random.PRNGKey(0))
    a = jax.random.normal(key_a, (n, n), jnp.float32)
    b = jax.random.normal(key_b, (n, n), jnp.float32)
    product, out = jax.jit(jnp.dot), {}

    def call():
        out["c"] = product(a, b)
    return call, lambda: out["c"].block_until_ready()


# numpy ------------------------------------------------------------------------------------------
def numpy_gemm(n):
    import numpy as np
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), np.float32)  # written in place: the product, not the allocator, is timed
    return (lambda: np.matmul(a, b, out=c)), (lambda: None)


# Worker: one framework at one thread count, in this process -------------------------------------
def worker(args):
    """Times the workloads and prints one line `RESULT_JSON {...}` for the driver to read."""
    import threadpoolctl
    framework, threads = args.framework, args.threads
    result = {"framework": framework, "threads": threads, "workloads": {}, "gemm": {}}

    if framework in ("torch", "torch-compile"):
        import torch
        torch.set_num_threads(threads)
        result["version"] = torch.__version__
        result["blas"] = "MKL" if torch.backends.mkl.is_available() else "?"
        builders = torch_workloads(compiled=framework == "torch-compile")
        gemm = torch_gemm if framework == "torch" else None
    elif framework == "jax":
        import jax
        import jaxlib
        result["version"] = f"jax {jax.__version__} / jaxlib {jaxlib.__version__}"
        result["devices"] = str(jax.devices())
        builders, gemm = jax_workloads(), jax_gemm
    elif framework == "numpy":
        import numpy
        result["version"] = numpy.__version__
        builders, gemm = {}, numpy_gemm
    else:
        raise ValueError(framework)
    # After the import, so that the framework's BLAS / OpenMP libraries are loaded and limited.
    limits = threadpoolctl.threadpool_limits(threads)  # noqa: F841 (the limit lasts while it lives)
    result["threadpools"] = threadpoolctl.threadpool_info()

    for workload in args.workloads:
        if workload == "gemm" or workload not in builders:
            continue
        try:
            call, finish = builders[workload]()
            units = IWAE["points_per_call"] if workload == "iwae" else 1
            result["workloads"][workload] = steady_rate(call, finish, units, args)
        except Exception as error:  # one failing workload must not lose the others' figures
            result["workloads"][workload] = {"error": f"{type(error).__name__}: {error}"[:500]}
        print(f"  [{framework} {threads}T] {workload}: {result['workloads'][workload]}",
              file=sys.stderr, flush=True)

    if "gemm" in args.workloads and gemm is not None:
        for n in GEMM_SIZES:
            call, finish = gemm(n)
            rate = steady_rate(call, finish, 2 * n ** 3 / 1e9, args)
            result["gemm"][str(n)] = rate
            print(f"  [{framework} {threads}T] gemm {n}: {rate['median']:.1f} GFLOP/s",
                  file=sys.stderr, flush=True)
    print("RESULT_JSON " + json.dumps(result), flush=True)


def run_worker(framework, threads, args):
    """Runs worker() in a fresh process pinned to the first `threads` cores; returns its result."""
    env = dict(os.environ)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[variable] = str(threads)
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if framework == "jax" and threads == 1:
        # XLA's Eigen pool otherwise runs a second thread even on one core.
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false").strip()
    command = [sys.executable, os.path.abspath(__file__), "--worker",
               "--framework", framework, "--threads", str(threads),
               "--workloads", *args.workloads,
               "--reps", str(args.reps), "--target-s", str(args.target_s),
               "--warmup-s", str(args.warmup_s), "--max-attempts", str(args.max_attempts),
               "--idle-threshold", str(args.idle_threshold),
               "--idle-timeout", str(args.idle_timeout)]
    cores = list(range(min(threads, os.cpu_count())))
    # The affinity is set before exec, so every pool the child creates sees only these cores.
    process = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True,
                             preexec_fn=lambda: os.sched_setaffinity(0, cores))
    for line in process.stdout.splitlines():
        if line.startswith("RESULT_JSON "):
            return json.loads(line[len("RESULT_JSON "):])
    return {"framework": framework, "threads": threads,
            "error": f"worker exited with {process.returncode}", "workloads": {}, "gemm": {}}


# Driver and summary -----------------------------------------------------------------------------
def machine():
    """The CPU model, core count, clock and vector features, and the fp32 peak they imply."""
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "<unset>")}
    clocks_mhz, model, flags = [], "?", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key == "cpu MHz":
                clocks_mhz.append(float(value))
            elif key == "model name":
                model = value
            elif key == "flags":
                flags = set(value.split())
    cores = os.cpu_count()
    mhz = max(clocks_mhz) if clocks_mhz else None
    info.update(model=model, cores=cores, mhz=mhz, avx2="avx2" in flags, fma="fma" in flags,
                avx512f="avx512f" in flags)
    # Two FMA pipes × 8 float32 lanes (256 bits) × 2 flops per FMA × the clock.
    info["peak_gflops_per_core"] = 2 * 8 * 2 * (mhz or 0.0) / 1000
    info["peak_gflops_total"] = cores * info["peak_gflops_per_core"]
    return info


def combine_rounds(runs):
    """One entry per (framework, threads): median, min and max of the rounds' medians."""
    groups = {}
    for run in runs:
        groups.setdefault((run["framework"], run["threads"]), []).append(run)
    combined = []
    for group in groups.values():
        entry = {k: v for k, v in group[0].items() if k not in ("workloads", "gemm")}
        entry["rounds"] = len(group)
        for section in ("workloads", "gemm"):
            entry[section] = {}
            for key in dict.fromkeys(k for run in group for k in run.get(section, {})):
                rates = [run[section][key] for run in group if key in run.get(section, {})]
                good = [r for r in rates if "error" not in r]
                if not good:
                    entry[section][key] = rates[0]
                    continue
                medians = [r["median"] for r in good]
                entry[section][key] = dict(
                    median=statistics.median(medians), min=min(medians), max=max(medians),
                    round_medians=medians, clean=all(r.get("clean", True) for r in good),
                    first_call_s=statistics.median(r["first_call_s"] for r in good))
        combined.append(entry)
    return combined


def figure(rate):
    if rate is None:
        return "–"
    if "error" in rate:
        return "error"
    return f"{rate['median']:.1f}" + ("" if rate.get("clean", True) else "*")


def spread(rate):
    return "–" if not rate or "error" in rate else f"{rate['min']:.1f}–{rate['max']:.1f}"


def summary(info, runs, args):
    """The Markdown summary of the combined runs."""
    by = {(r["framework"], r["threads"]): r for r in runs}
    columns = list(by)
    lines = ["# Peer CPU baselines", "",
             f"Machine: {info['model']}, {info['cores']} cores @ {info['mhz']} MHz, "
             f"AVX2={info['avx2']} FMA={info['fma']} AVX-512F={info['avx512f']}; "
             f"Python {info['python']}; OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE']}.",
             f"Theoretical fp32 peak (2 FMA × 8 lanes × 2 flops × clock): "
             f"{info['peak_gflops_per_core']:.1f} GFLOP/s per core, "
             f"{info['peak_gflops_total']:.1f} GFLOP/s for {info['cores']} cores.", ""]
    for framework in dict.fromkeys(r["framework"] for r in runs):
        lines.append(f"- {framework}: {by[next(c for c in columns if c[0] == framework)].get('version', '?')}")
    lines += ["", f"Each figure: the median over {args.rounds} round(s) of each round's median of "
              f"{args.reps} repetitions of about {args.target_s} s, after {args.warmup_s} s of "
              f"warm-up (first call and JIT compilation excluded). Repetitions during which other "
              f"processes used more than {args.idle_threshold} cores were discarded and retried.", ""]

    models = [w for w in args.workloads if w != "gemm"]
    model_columns = [c for c in columns if c[0] != "numpy"]  # numpy runs gemm only
    if models and model_columns:
        heads = [f"{f} {t}T" for f, t in model_columns]

        def grid(title, first, cell):
            lines.extend([title, "", "| " + " | ".join(first + heads) + " |",
                          "|" + "---|" * len(first) + "---:|" * len(heads)])
            for w in models:
                lines.append("| " + " | ".join(first_cells(first, w) + [cell(w, by[c]["workloads"].get(w))
                                                                       for c in model_columns]) + " |")
            lines.append("")

        def first_cells(first, w):
            if first == ["workload", "unit"]:
                return [w, "points/s" if w == "iwae" else "steps/s"]
            if first == ["workload", "GFLOP/unit"]:
                return [w, f"{gflop_per_unit(w):.4f}"]
            return [w]

        def achieved(w, r):
            return "–" if not r or "error" in r else f"{r['median'] * gflop_per_unit(w):.1f}"

        def first_call(w, r):
            return "–" if not r or "error" in r else f"{r['first_call_s']:.2f}"

        grid("## Training steps/s (iwae: data points/s)", ["workload", "unit"], lambda w, r: figure(r))
        grid("Approximate achieved matrix-product GFLOP/s (training: 3 × the forward products' flops "
             "per step; iwae: forward flops):", ["workload", "GFLOP/unit"], achieved)
        grid("First call (including JIT compilation), seconds:", ["workload"], first_call)
        grid("Spread over rounds (min–max of the rounds' medians):", ["workload"], lambda w, r: spread(r))
        for f, t in model_columns:
            for w in models:
                r = by[(f, t)]["workloads"].get(w, {})
                if "error" in r:
                    lines.append(f"- error {f} {t}T {w}: `{r['error']}`")

    gemm_columns = [c for c in columns if by[c]["gemm"]]
    if "gemm" in args.workloads and gemm_columns:
        heads = [f"{f} {t}T" for f, t in gemm_columns]
        lines += ["## SGEMM GFLOP/s (C = A·B, square, float32)", "",
                  "| n | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(heads)]
        for n in GEMM_SIZES:
            cells = []
            for c in gemm_columns:
                r = by[c]["gemm"].get(str(n))
                peak = info["peak_gflops_per_core"] * c[1]
                percent = f" ({100 * r['median'] / peak:.0f}%)" if r and "error" not in r and peak else ""
                cells.append(figure(r) + percent)
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
        lines += ["", "(percent of the theoretical peak at the thread count used; spread over rounds:)", "",
                  "| n | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(heads)]
        for n in GEMM_SIZES:
            lines.append(f"| {n} | " + " | ".join(spread(by[c]["gemm"].get(str(n))) for c in gemm_columns) + " |")
        lines.append("")
    lines += [f"`*` = no repetition ran on a quiet machine (other processes used more than "
              f"{args.idle_threshold} cores); the figure is contaminated.", ""]

    seen = set()
    for run in runs:
        for pool in run.get("threadpools", []):
            api = pool.get("internal_api")
            if api in ("openblas", "mkl", "openmp") and (api, run["framework"]) not in seen:
                seen.add((api, run["framework"]))
                lines.append(f"- {run['framework']} thread pool: {api} {pool.get('version')} "
                             f"arch={pool.get('architecture', '-')}")
    return "\n".join(lines) + "\n"


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frameworks", nargs="+", default=DEFAULT_FRAMEWORKS, choices=FRAMEWORKS)
    parser.add_argument("--workloads", nargs="+", default=WORKLOADS, choices=WORKLOADS)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of the whole suite, frameworks interleaved; the median round is reported")
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions per figure (median reported)")
    parser.add_argument("--target-s", type=float, default=1.0, help="seconds per repetition")
    parser.add_argument("--warmup-s", type=float, default=1.0, help="seconds of warm-up")
    parser.add_argument("--idle-threshold", type=float, default=0.1,
                        help="most cores other processes may use during a clean repetition")
    parser.add_argument("--idle-timeout", type=float, default=120.0,
                        help="most seconds to wait for a quiet machine before a repetition")
    parser.add_argument("--max-attempts", type=int, default=4,
                        help="give up after reps × this many repetitions")
    parser.add_argument("--out", default="peer-results", help="output prefix: <out>.md and <out>.json")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--framework", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main():
    args = parse_arguments()
    if args.worker:
        args.threads = args.threads[0]
        worker(args)
        return

    info = machine()
    print(json.dumps(info), file=sys.stderr)
    runs = []
    # Rounds outermost: a drift of the machine's speed spreads over every framework alike.
    for round_index in range(args.rounds):
        for framework in args.frameworks:
            for threads in args.threads:
                print(f"== round {round_index + 1}/{args.rounds}: {framework}, {threads} thread(s)",
                      file=sys.stderr, flush=True)
                runs.append(dict(run_worker(framework, threads, args), round=round_index))
    text = summary(info, combine_rounds(runs), args)
    with open(args.out + ".md", "w") as f:
        f.write(text)
    with open(args.out + ".json", "w") as f:
        json.dump({"machine": info, "args": vars(args), "runs": runs}, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
