#!/usr/bin/env python3
"""The workloads of `compare bench`, written in the frameworks its users would otherwise pick.

`compare bench` and this script time the same five workloads, so that the two can be run side
by side (scripts/bench-vs-peers.sh) and the ratio of their rates read off one table; four
convolutional workloads (the shared spec of issue 16) follow them. Every workload is float32;
weights are untrained and data synthetic (only the time matters).

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
  unet28    DDPM training step of the U-Net ε-network on 28×28×1 images, batch 64 (x0 uniform
            in [−1, 1]): base 32 channels, multipliers (1, 2, 2), two ResBlocks per level
            (GroupNorm 8, SiLU, 128-wide time embedding in every block), no attention, T = 1000,
            linear β, ε-MSE, Adam lr 1e-4. 1,522,561 parameters (C_out = 2: 1,522,850).
  convvae28 ResNet-VAE training step, batch 128, x uniform in [0, 1]: conv3, 3 ResBlocks and two
            stride-2 convs down to 7×7×64, Linear 3136 -> (μ, log σ²) of 32; decoder the mirror
            (nearest ×2 + conv3 up), Bernoulli logits, −ELBO, Adam lr 1e-3. 749,569 parameters.
  ddpm-elbo-mlp, ddpm-elbo-unet
            the exact DDPM ELBO (bits per dimension) of 16 images on the 256 levels of [−1, 1],
            improved-diffusion's calc_bpd_loop with clip_denoised=True and fixed-small variance,
            no gradients: per t = T..1 one q_sample and one network pass at batch 16 (KL terms,
            the discretized-Gaussian decoder NLL at t = 1), plus the prior KL. Denoiser: the
            ddpm784 MLP (1,345,808 parameters) or the U-Net above (C_out = 1). Examples/s.
            T = 1000, or --elbo-timesteps N for quick runs (the rate is per example at that T;
            the JSON records it as "timesteps").

A training step = sample the noise and timesteps + forward + backward + Adam update, all in the
timed call (the data batch comes from a pool of 16 generated beforehand).

--workloads takes names and two group names: `all` (the default) = the five workloads of
`compare bench` above, as before; `conv` = unet28 convvae28 ddpm-elbo-mlp ddpm-elbo-unet (not in
`all`: at T = 1000 one ddpm-elbo-unet call is 16,000 U-Net passes, minutes on 2 cores).

The convolutional models, as the spec has them: tensors NHWC (a flattened row [B, 784] is the
image [B, 28, 28, 1]); conv3 = 3×3 stride 1 padding 1, "down" = 3×3 stride 2 padding 1
(28 -> 14 -> 7), "up" = nearest ×2 then conv3; ResBlock(x) = skip(x) + conv3(SiLU(GN(h'))),
h' = conv3(SiLU(GN(x))) [+ Linear(SiLU(emb))], skip = identity or 1×1 conv; GroupNorm 8 groups,
ε 1e-5; time embedding Linear 32->128, SiLU, Linear 128->128 of [sin(t f_i), cos(t f_i)];
PyTorch's default init, the U-Net's last conv zero (improved-diffusion's zero_module).
  * PyTorch (eager): NCHW tensors, weights [Cout, Cin, kh, kw]; the VAE flattens in NHWC order
    (a permute) so that its Linear weights mean what the spec's do. unet28 is timed in both
    memory formats, recorded as the extra workloads "unet28_nchw" and "unet28_channels_last";
    "unet28" is a copy of the faster one with "memory_format" added. ddpm-elbo-unet uses the
    format that was faster in a short probe of forward passes at batch 16 ("memory_format",
    "probe_s_per_pass"). The ELBO loop is a Python loop under torch.no_grad(); as t is known
    there, only the term kept (decoder NLL at t = 1, KL otherwise) is computed.
  * JAX: NHWC, conv weights HWIO, explicit (1, 1) padding; each training step one jit (optax
    Adam); the ELBO is one jit holding a lax.fori_loop over t (both terms computed and one kept
    with where, as improved-diffusion does), the noise drawn with fold_in(key, t) inside it.
  * For T != 1000 (--elbo-timesteps) the schedule is improved-diffusion's: both ends of the
    linear β scaled by 1000/T, capped at 0.999 as compare's NoiseSchedule does (improved-
    diffusion's own β passes 1 below T = 20); the network sees the integer ⌊t·1000/T⌋, t = 1..T.
  * --self-test (needs torch and jax in one environment) copies PyTorch's weights into the JAX
    models and checks the U-Net (also channels_last), the VAE and the ELBO (zero network, MLP,
    U-Net; T = 10, the same noise) agree to 1e-4 relative, and the parameter counts of both
    against the spec's. The PyTorch ELBO was also checked once against improved-diffusion's own
    calc_bpd_loop (the same seed, so the same noise): 3e-7 relative at T = 10 and T = 1000.

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
  .venv-peers/bin/python scripts/peers.py --frameworks torch jax --workloads conv --threads 2
  .venv-peers/bin/python scripts/peers.py --self-test
PyTorch is optional (`pip install torch`, a large install): --frameworks torch, or
torch-compile for the same models under torch.compile. Everything at 1 and 2 threads with the
defaults takes about 30 minutes.

Outputs: <out>.json = {"machine", "args", "runs"}; each run (one framework, thread count and
round) holds "framework", "threads", "round", "version", "workloads" {name: rate} and "gemm"
{"256"/"512"/"1024": rate}, each rate {"median", "min", "max", "calls_per_rep", "reps", "clean",
"discarded", "others_load", "first_call_s"} (or {"error"}); the convolutional workloads add
"memory_format" (PyTorch), "timesteps", "examples_per_call", "loop" where they apply, and the
combined rounds keep these. <out>.md is a readable summary (rates, approximate achieved GFLOP/s,
first-call seconds, spread over rounds).
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


def gflop_per_unit(workload, timesteps=TIMESTEPS):
    """Matrix-product GFLOP per step (per data point for iwae, per example for ddpm-elbo), to read
    a rate as GFLOP/s.

    Training counts three products per layer (forward, gradient of the input, gradient of the
    weight); iwae is forward only: one encoder pass and K decoder passes per data point; the
    convolutions count as products (2·H·W·k²·Cin·Cout flops per image); ddpm-elbo is T forward
    passes per example.
    """
    workload = workload.split("_")[0]  # unet28_nchw, unet28_channels_last
    if workload == "unet28":
        return 3 * 2 * UNET["batch"] * unet_cost()[1] / 1e9
    if workload == "convvae28":
        return 3 * 2 * CONV_VAE["batch"] * conv_vae_cost()[1] / 1e9
    if workload == "ddpm-elbo-unet":
        return 2 * timesteps * unet_cost()[1] / 1e9
    if workload == "ddpm-elbo-mlp":
        return 2 * timesteps * multiply_adds(ddpm_layer_sizes(784, 512)) / 1e9
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
    if workload == "unet28":
        return [rng.uniform(-1, 1, (UNET["batch"], IMAGE_SIDE * IMAGE_SIDE)).astype(np.float32)
                for _ in range(POOL_SIZE)]
    if workload == "convvae28":
        return [rng.uniform(0, 1, (CONV_VAE["batch"], IMAGE_SIDE * IMAGE_SIDE)).astype(np.float32)
                for _ in range(POOL_SIZE)]
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


# The convolutional problems (the shared spec of issue 16) ---------------------------------------
# Layout: NHWC; a flattened image row [B, 784] is the NHWC tensor [B, 28, 28, 1]. Layers are
# described once, as (kind, in channels, out channels), and every framework builds from these
# lists: "res" = ResBlock, "down" = conv 3×3 stride 2 padding 1, "up" = nearest ×2 then conv3,
# "conv" = conv3, "norm" = SiLU(GroupNorm(·)).
CONV_WORKLOADS = ["unet28", "convvae28", "ddpm-elbo-mlp", "ddpm-elbo-unet"]
GROUPS = {"all": WORKLOADS, "conv": CONV_WORKLOADS}
IMAGE_SIDE = 28
NORM_GROUPS, NORM_EPS = 8, 1e-5
UNET = dict(batch=64, base=32, embedding=128, learning_rate=1e-4)
UNET_DOWN = [("res", 32, 32), ("res", 32, 32), ("down", 32, 32),
             ("res", 32, 64), ("res", 64, 64), ("down", 64, 64),
             ("res", 64, 64), ("res", 64, 64)]
UNET_MIDDLE = [("res", 64, 64), ("res", 64, 64)]
UNET_UP = [("res", 128, 64), ("res", 128, 64), ("res", 128, 64), ("up", 64, 64),
           ("res", 128, 64), ("res", 128, 64), ("res", 96, 64), ("up", 64, 64),
           ("res", 96, 32), ("res", 64, 32), ("res", 64, 32)]
CONV_VAE = dict(batch=128, latent=32, learning_rate=1e-3, flat=7 * 7 * 64)
CONV_VAE_ENCODER = [("conv", 1, 32), ("res", 32, 32), ("down", 32, 64), ("res", 64, 64),
                    ("down", 64, 64), ("res", 64, 64), ("norm", 64, 64)]
CONV_VAE_DECODER = [("res", 64, 64), ("up", 64, 64), ("res", 64, 64), ("up", 64, 32),
                    ("res", 32, 32), ("norm", 32, 32), ("conv", 32, 1)]
ELBO = dict(examples=16, timesteps=1000, levels=256)
# PyTorch's unet28 is timed in both memory formats; "unet28" is then the faster of the two.
TORCH_UNET_FORMATS = {"unet28_nchw": "contiguous (NCHW)", "unet28_channels_last": "channels_last"}


def expand_workloads(names):
    """The workloads named, group names (all, conv) replaced by their members, each once."""
    out = []
    for name in names:
        out.extend(GROUPS.get(name, [name]))
    return list(dict.fromkeys(out))


def conv_layer_cost(kind, c_in, c_out, side, embedding=None):
    """(parameters, multiply-adds per image, output side) of one layer of the lists above."""
    if kind == "res":
        parameters = 2 * c_in + 9 * c_in * c_out + c_out + 2 * c_out + 9 * c_out * c_out + c_out
        macs = side * side * 9 * (c_in * c_out + c_out * c_out)
        if embedding:
            parameters += embedding * c_out + c_out
            macs += embedding * c_out
        if c_in != c_out:
            parameters += c_in * c_out + c_out
            macs += side * side * c_in * c_out
        return parameters, macs, side
    if kind == "norm":
        return 2 * c_in, 0, side
    out_side = side // 2 if kind == "down" else 2 * side if kind == "up" else side
    return 9 * c_in * c_out + c_out, out_side * out_side * 9 * c_in * c_out, out_side


def conv_layers_cost(layers, side, embedding=None):
    parameters = macs = 0
    for kind, c_in, c_out in layers:
        p, m, side = conv_layer_cost(kind, c_in, c_out, side, embedding)
        parameters, macs = parameters + p, macs + m
    return parameters, macs, side


def unet_cost(out_channels=1):
    """(parameters, forward multiply-adds per image) of the U-Net, counted from the spec."""
    e, base = UNET["embedding"], UNET["base"]
    parameters = EMBEDDING_WIDTH * e + e + e * e + e           # time embedding
    macs = EMBEDDING_WIDTH * e + e * e
    p, m, side = conv_layer_cost("conv", 1, base, IMAGE_SIDE)  # input conv
    parameters, macs = parameters + p, macs + m
    for layers in (UNET_DOWN, UNET_MIDDLE, UNET_UP):
        p, m, side = conv_layers_cost(layers, side, e)
        parameters, macs = parameters + p, macs + m
    p, m, _ = conv_layers_cost([("norm", base, base), ("conv", base, out_channels)], side)
    return parameters + p, macs + m


def conv_vae_cost():
    """(parameters, forward multiply-adds per image: encoder + decoder) of the ResNet VAE."""
    latent, flat = CONV_VAE["latent"], CONV_VAE["flat"]
    p_enc, m_enc, _ = conv_layers_cost(CONV_VAE_ENCODER, IMAGE_SIDE)
    p_dec, m_dec, _ = conv_layers_cost(CONV_VAE_DECODER, 7)
    linears = flat * 2 * latent + 2 * latent + latent * flat + flat
    return p_enc + p_dec + linears, m_enc + m_dec + flat * 2 * latent + latent * flat


def elbo_schedule(timesteps):
    """The arrays of improved-diffusion's GaussianDiffusion (float64), for T = `timesteps`.

    Linear β from 1e-4 to 0.02 at T = 1000; for another T both ends are scaled by 1000/T and β
    capped at 0.999 (improved-diffusion's get_named_beta_schedule; compare's NoiseSchedule).
    Index i is improved-diffusion's t = i, our t = i + 1. "model_t" is the integer the network's
    embedding sees: ⌊t·1000/T⌋ (= t at T = 1000; compare's floor timestep scaling).
    """
    import numpy as np
    assert timesteps >= 2, "the ELBO needs T >= 2"
    scale = 1000.0 / timesteps
    betas = np.minimum(np.linspace(scale * BETA_FIRST, scale * BETA_LAST, timesteps, dtype=np.float64), 0.999)
    alphas = 1.0 - betas
    alpha_bar = np.cumprod(alphas)
    alpha_bar_prev = np.append(1.0, alpha_bar[:-1])
    posterior_variance = betas * (1.0 - alpha_bar_prev) / (1.0 - alpha_bar)
    return dict(
        sqrt_alpha_bar=np.sqrt(alpha_bar),
        sqrt_one_minus_alpha_bar=np.sqrt(1.0 - alpha_bar),
        log_one_minus_alpha_bar=np.log(1.0 - alpha_bar),
        sqrt_recip_alpha_bar=np.sqrt(1.0 / alpha_bar),
        sqrt_recipm1_alpha_bar=np.sqrt(1.0 / alpha_bar - 1.0),
        # log β̃ with β̃_1 = 0 replaced by β̃_2 (posterior_log_variance_clipped)
        posterior_log_variance_clipped=np.log(np.append(posterior_variance[1], posterior_variance[1:])),
        posterior_mean_coef1=betas * np.sqrt(alpha_bar_prev) / (1.0 - alpha_bar),
        posterior_mean_coef2=(1.0 - alpha_bar_prev) * np.sqrt(alphas) / (1.0 - alpha_bar),
        model_t=(np.arange(1, timesteps + 1) * 1000) // timesteps,
    )


def elbo_images(seed=0):
    """The ELBO's 16 images: each pixel uniform on the 256 levels 2k/255 − 1 of [−1, 1]."""
    import numpy as np
    rng = np.random.default_rng(seed)
    levels = rng.integers(0, ELBO["levels"], (ELBO["examples"], IMAGE_SIDE * IMAGE_SIDE))
    return (levels * (2.0 / (ELBO["levels"] - 1)) - 1.0).astype(np.float32)


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
def torch_workloads(compiled, elbo_timesteps=TIMESTEPS):
    """Builders of (call, finish) for the model workloads in PyTorch (eager, or compiled); the
    convolutional ones return (call, finish, extra fields of the rate). unet28 is built once per
    memory format (unet28_nchw, unet28_channels_last)."""
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
        pool, state = [torch.as_tensor(x) for x in pool], {"i": 0}  # numpy arrays or tensors

        def next_batch():
            state["i"] += 1
            return pool[state["i"] % len(pool)]
        return next_batch

    def training(model, loss_of, next_batch, learning_rate=LEARNING_RATE):
        optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
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

    builders = {"ddpm2d": lambda: ddpm("ddpm2d"), "ddpm784": lambda: ddpm("ddpm784"),
                "vae784": vae, "iwae": iwae}

    conv = torch_conv_models()

    def unet28(memory_format):
        network = conv.UNet().to(memory_format=memory_format)
        signal, noise = (torch.from_numpy(v) for v in noise_schedule())
        pool = [torch.from_numpy(x).reshape(-1, 1, IMAGE_SIDE, IMAGE_SIDE).contiguous(memory_format=memory_format)
                for x in data_pool("unet28")]

        def loss_of(x0):
            t = torch.randint(1, TIMESTEPS + 1, (x0.shape[0],))
            eps = torch.randn_like(x0)
            xt = signal[t - 1, None, None, None] * x0 + noise[t - 1, None, None, None] * eps
            return F.mse_loss(network(xt, t), eps)
        return training(network, loss_of, cycle(pool), UNET["learning_rate"])

    def convvae28():
        network = conv.ConvVAE()
        pool = [x.reshape(-1, 1, IMAGE_SIDE, IMAGE_SIDE) for x in data_pool("convvae28")]

        def loss_of(x):
            mu, log_var = network.encode_moments(x)
            z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
            logits = network.decode_logits(z)
            reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
            kl = 0.5 * (mu.square() + log_var.exp() - 1.0 - log_var).sum(1)
            return (reconstruction + kl).mean()
        return training(network, loss_of, cycle(pool), CONV_VAE["learning_rate"])

    def probe_memory_format(network, batch):
        """The faster memory format of the U-Net's forward pass at this batch, and the seconds per
        pass of each (a few passes after one of warm-up, under no_grad)."""
        seconds = {}
        t = torch.full((batch,), 500, dtype=torch.long)
        for memory_format in (torch.contiguous_format, torch.channels_last):
            network.to(memory_format=memory_format)
            x = torch.randn(batch, 1, IMAGE_SIDE, IMAGE_SIDE).contiguous(memory_format=memory_format)
            with torch.no_grad():
                network(x, t)
                began = time.perf_counter()
                for _ in range(5):
                    network(x, t)
            seconds[memory_format] = (time.perf_counter() - began) / 5
        best = min(seconds, key=seconds.get)
        network.to(memory_format=best)
        return best, seconds

    def elbo(denoiser):
        x0 = torch.from_numpy(elbo_images())
        timesteps, extra = elbo_timesteps, {}
        if denoiser == "mlp":
            eps_of = conv.mlp_eps(maybe_compile(conv.mlp_denoiser()))
        else:
            network = conv.UNet()
            memory_format, seconds = probe_memory_format(network, ELBO["examples"])
            names = {torch.contiguous_format: "contiguous (NCHW)", torch.channels_last: "channels_last"}
            extra = {"memory_format": names[memory_format],
                     "probe_s_per_pass": {names[k]: round(v, 5) for k, v in seconds.items()}}
            eps_of = conv.unet_eps(maybe_compile(network), memory_format)

        def call():
            with torch.no_grad():
                return conv.elbo_bpd(eps_of, x0, timesteps, lambda i: torch.randn_like(x0))
        return call, (lambda: None), dict(timesteps=timesteps, examples_per_call=ELBO["examples"], **extra)

    builders.update({
        "unet28_nchw": lambda: unet28(torch.contiguous_format),
        "unet28_channels_last": lambda: unet28(torch.channels_last),
        "convvae28": convvae28,
        "ddpm-elbo-mlp": lambda: elbo("mlp"),
        "ddpm-elbo-unet": lambda: elbo("unet"),
    })
    return builders


def torch_gemm(n):
    import torch
    a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
    return (lambda: torch.mm(a, b, out=c)), (lambda: None)


# PyTorch: the convolutional models -------------------------------------------------------------
def torch_conv_models():
    """The U-Net, the ResNet VAE and the DDPM ELBO in PyTorch (NCHW tensors; weights
    [Cout, Cin, kh, kw]); a namespace of classes and functions."""
    import types
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class ResBlock(nn.Module):
        def __init__(self, c_in, c_out, embedding=None):
            super().__init__()
            self.norm1 = nn.GroupNorm(NORM_GROUPS, c_in, eps=NORM_EPS)
            self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
            self.emb = nn.Linear(embedding, c_out) if embedding else None
            self.norm2 = nn.GroupNorm(NORM_GROUPS, c_out, eps=NORM_EPS)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
            self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else None

        def forward(self, x, emb=None):
            h = self.conv1(F.silu(self.norm1(x)))
            if self.emb is not None:
                h = h + self.emb(F.silu(emb))[:, :, None, None]
            h = self.conv2(F.silu(self.norm2(h)))
            return (x if self.skip is None else self.skip(x)) + h

    class Conv(nn.Module):
        """conv3 ("conv"), conv 3×3 stride 2 ("down"), nearest ×2 then conv3 ("up")."""

        def __init__(self, kind, c_in, c_out):
            super().__init__()
            self.kind = kind
            self.conv = nn.Conv2d(c_in, c_out, 3, stride=2 if kind == "down" else 1, padding=1)

        def forward(self, x, emb=None):
            if self.kind == "up":
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            return self.conv(x)

    class NormAct(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.norm = nn.GroupNorm(NORM_GROUPS, channels, eps=NORM_EPS)

        def forward(self, x, emb=None):
            return F.silu(self.norm(x))

    def layers(specs, embedding=None):
        return nn.ModuleList(ResBlock(a, b, embedding) if kind == "res" else NormAct(a) if kind == "norm"
                             else Conv(kind, a, b) for kind, a, b in specs)

    def sinusoidal(t, frequencies):
        angles = t[:, None].float() * frequencies[None, :]
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)

    class UNet(nn.Module):
        def __init__(self, out_channels=1):
            super().__init__()
            e, base = UNET["embedding"], UNET["base"]
            self.register_buffer("frequencies", torch.from_numpy(embedding_frequencies()), persistent=False)
            self.time_embed = nn.Sequential(nn.Linear(EMBEDDING_WIDTH, e), nn.SiLU(), nn.Linear(e, e))
            self.input = nn.Conv2d(1, base, 3, padding=1)
            self.down, self.middle, self.up = layers(UNET_DOWN, e), layers(UNET_MIDDLE, e), layers(UNET_UP, e)
            self.out_norm = nn.GroupNorm(NORM_GROUPS, base, eps=NORM_EPS)
            self.out = nn.Conv2d(base, out_channels, 3, padding=1)
            nn.init.zeros_(self.out.weight)  # improved-diffusion's zero_module
            nn.init.zeros_(self.out.bias)

        def forward(self, x, t):
            """x [B, 1, 28, 28], t integers [B] -> [B, C_out, 28, 28]."""
            emb = self.time_embed(sinusoidal(t, self.frequencies))
            h = self.input(x)
            stack = [h]
            for layer in self.down:
                h = layer(h, emb)
                stack.append(h)
            for layer in self.middle:
                h = layer(h, emb)
            for layer in self.up:
                h = layer(torch.cat([h, stack.pop()], dim=1), emb) if isinstance(layer, ResBlock) else layer(h)
            return self.out(F.silu(self.out_norm(h)))

    class ConvVAE(nn.Module):
        def __init__(self):
            super().__init__()
            latent, flat = CONV_VAE["latent"], CONV_VAE["flat"]
            self.encoder, self.decoder = layers(CONV_VAE_ENCODER), layers(CONV_VAE_DECODER)
            self.encode = nn.Linear(flat, 2 * latent)
            self.decode = nn.Linear(latent, flat)

        def encode_moments(self, x):
            """x [B, 1, 28, 28] -> (μ, log σ²) [B, latent] each."""
            h = x
            for layer in self.encoder:
                h = layer(h)
            # Flattened in NHWC order, as the spec (and the weights' layout) has it.
            return self.encode(h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)).chunk(2, dim=1)

        def decode_logits(self, z, memory_format=torch.contiguous_format):
            """z [B, latent] -> Bernoulli logits [B, 1, 28, 28]."""
            h = self.decode(z).reshape(z.shape[0], 7, 7, -1).permute(0, 3, 1, 2)
            h = h.contiguous(memory_format=memory_format)
            for layer in self.decoder:
                h = layer(h)
            return h

    def mlp_denoiser():
        sizes, layers_ = ddpm_layer_sizes(784, 512), []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers_.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers_.append(nn.SiLU())
        return nn.Sequential(*layers_)

    def mlp_eps(network):
        frequencies = torch.from_numpy(embedding_frequencies())
        return lambda x, t: network(torch.cat([x, sinusoidal(t, frequencies)], dim=1))

    def unet_eps(network, memory_format=torch.contiguous_format):
        def eps(x, t):
            image = x.reshape(x.shape[0], 1, IMAGE_SIDE, IMAGE_SIDE).contiguous(memory_format=memory_format)
            return network(image, t).reshape(x.shape[0], -1)
        return eps

    # improved-diffusion's losses.py
    def normal_kl(mean1, logvar1, mean2, logvar2):
        return 0.5 * (-1.0 + logvar2 - logvar1 + torch.exp(logvar1 - logvar2)
                      + ((mean1 - mean2) ** 2) * torch.exp(-logvar2))

    def approx_standard_normal_cdf(x):
        return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3))))

    def discretized_gaussian_log_likelihood(x, means, log_scales):
        centered_x = x - means
        inv_stdv = torch.exp(-log_scales)
        cdf_plus = approx_standard_normal_cdf(inv_stdv * (centered_x + 1.0 / 255.0))
        cdf_min = approx_standard_normal_cdf(inv_stdv * (centered_x - 1.0 / 255.0))
        log_cdf_plus = torch.log(cdf_plus.clamp(min=1e-12))
        log_one_minus_cdf_min = torch.log((1.0 - cdf_min).clamp(min=1e-12))
        cdf_delta = cdf_plus - cdf_min
        return torch.where(x < -0.999, log_cdf_plus,
                           torch.where(x > 0.999, log_one_minus_cdf_min, torch.log(cdf_delta.clamp(min=1e-12))))

    def elbo_bpd(eps_of, x0, timesteps, noise_of):
        """improved-diffusion's calc_bpd_loop(clip_denoised=True)["total_bpd"]: bits per dimension
        of each image of x0 [N, 784] (so −ELBO / (784 ln 2)). eps_of(x_t, t_model) -> ε̂;
        noise_of(i) -> the ε of q_sample at index i (t = i + 1). The per-t scalars are
        improved-diffusion's float32 extracts of its float64 arrays; call under no_grad."""
        schedule = {k: torch.from_numpy(v.astype(np.float32)) if k != "model_t" else v
                    for k, v in elbo_schedule(timesteps).items()}
        c = {k: v.tolist() for k, v in schedule.items() if k != "model_t"}
        log_variance = schedule["posterior_log_variance_clipped"]
        batch, log2 = x0.shape[0], math.log(2.0)
        total = torch.zeros(batch)
        for i in reversed(range(timesteps)):  # improved-diffusion goes from t = T down to 1
            x_t = c["sqrt_alpha_bar"][i] * x0 + c["sqrt_one_minus_alpha_bar"][i] * noise_of(i)
            eps = eps_of(x_t, torch.full((batch,), int(schedule["model_t"][i]), dtype=torch.long))
            pred_x0 = (c["sqrt_recip_alpha_bar"][i] * x_t - c["sqrt_recipm1_alpha_bar"][i] * eps).clamp(-1, 1)
            model_mean = c["posterior_mean_coef1"][i] * pred_x0 + c["posterior_mean_coef2"][i] * x_t
            # Fixed-small variance: p's log variance is posterior_log_variance_clipped, as q's.
            # improved-diffusion computes both terms and keeps one with th.where(t == 0, …);
            # here t is known, so only the kept one is computed (same value).
            if i == 0:
                term = -discretized_gaussian_log_likelihood(x0, model_mean, 0.5 * log_variance[i])
            else:
                true_mean = c["posterior_mean_coef1"][i] * x0 + c["posterior_mean_coef2"][i] * x_t
                term = normal_kl(true_mean, log_variance[i], model_mean, log_variance[i])
            total = total + term.mean(dim=1) / log2
        # _prior_bpd: KL(q(x_T | x0) ‖ N(0, I))
        prior = normal_kl(schedule["sqrt_alpha_bar"][-1] * x0, schedule["log_one_minus_alpha_bar"][-1],
                          torch.tensor(0.0), torch.tensor(0.0))
        return total + prior.mean(dim=1) / log2

    return types.SimpleNamespace(ResBlock=ResBlock, UNet=UNet, ConvVAE=ConvVAE, mlp_denoiser=mlp_denoiser,
                                 mlp_eps=mlp_eps, unet_eps=unet_eps, elbo_bpd=elbo_bpd)


# JAX --------------------------------------------------------------------------------------------
def jax_workloads(elbo_timesteps=TIMESTEPS):
    """Builders of (call, finish) for the model workloads in JAX + optax, each step one jit; the
    convolutional ones return (call, finish, extra fields of the rate)."""
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

    def training(params, loss_of, pool, optimizer=optimizer):
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

    builders = {"ddpm2d": lambda: ddpm("ddpm2d"), "ddpm784": lambda: ddpm("ddpm784"),
                "vae784": vae, "iwae": iwae}

    conv = jax_conv_models()

    def unet28():
        signal, noise = (jnp.asarray(v) for v in noise_schedule())

        def loss_of(params, key, x0):
            key_t, key_eps = jax.random.split(key)
            x0 = x0.reshape(-1, IMAGE_SIDE, IMAGE_SIDE, 1)
            t = jax.random.randint(key_t, (x0.shape[0],), 1, TIMESTEPS + 1)
            eps = jax.random.normal(key_eps, x0.shape, jnp.float32)
            xt = signal[t - 1, None, None, None] * x0 + noise[t - 1, None, None, None] * eps
            return jnp.mean((conv.unet(params, xt, t) - eps) ** 2)
        return training(conv.init_unet(5), loss_of, data_pool("unet28"), optax.adam(UNET["learning_rate"]))

    def convvae28():
        def loss_of(params, key, x):
            x = x.reshape(-1, IMAGE_SIDE, IMAGE_SIDE, 1)
            mu, log_var = conv.encode_moments(params, x)
            z = mu + jnp.exp(0.5 * log_var) * jax.random.normal(key, mu.shape, jnp.float32)
            reconstruction = bernoulli_nll(conv.decode_logits(params, z), x).reshape(x.shape[0], -1).sum(1)
            kl = 0.5 * (mu ** 2 + jnp.exp(log_var) - 1.0 - log_var).sum(1)
            return jnp.mean(reconstruction + kl)
        return training(conv.init_conv_vae(6), loss_of, data_pool("convvae28"),
                        optax.adam(CONV_VAE["learning_rate"]))

    def elbo(denoiser):
        x0 = jnp.asarray(elbo_images())
        eps_of, params = ((conv.mlp_eps, conv.init_mlp_denoiser(7)) if denoiser == "mlp"
                          else (conv.unet_eps, conv.init_unet(8)))

        @jax.jit
        def bpd(params, key, x0):
            return conv.elbo_bpd(eps_of, params, x0, elbo_timesteps,
                                 lambda i: jax.random.normal(jax.random.fold_in(key, i), x0.shape, jnp.float32))

        state = {"key": jax.random.PRNGKey(9)}

        def call():
            state["key"], sub = jax.random.split(state["key"])
            state["value"] = bpd(params, sub, x0)
        return (call, lambda: jax.block_until_ready(state["value"]),
                dict(timesteps=elbo_timesteps, examples_per_call=ELBO["examples"], loop="lax.fori_loop in one jit"))

    builders.update({"unet28": unet28, "convvae28": convvae28,
                     "ddpm-elbo-mlp": lambda: elbo("mlp"), "ddpm-elbo-unet": lambda: elbo("unet")})
    return builders


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


# JAX: the convolutional models -----------------------------------------------------------------
def jax_conv_models():
    """The U-Net, the ResNet VAE and the DDPM ELBO in JAX (NHWC, conv weights HWIO = [kh, kw,
    Cin, Cout], linear weights [in, out]); parameters are flat dicts named as PyTorch's
    state_dict names them, so weights can be copied across (self-test)."""
    import types
    import jax
    import jax.numpy as jnp
    import numpy as np

    # PyTorch's default init: weights and biases uniform in ±1/√fan_in; GroupNorm γ = 1, β = 0.
    class Init:
        def __init__(self, seed):
            self.key, self.params = jax.random.PRNGKey(seed), {}

        def uniform(self, name, shape, fan_in):
            self.key, sub = jax.random.split(self.key)
            bound = 1.0 / math.sqrt(fan_in)
            self.params[name] = jax.random.uniform(sub, shape, jnp.float32, -bound, bound)

        def conv(self, name, c_in, c_out, k=3):
            self.uniform(name + ".weight", (k, k, c_in, c_out), k * k * c_in)
            self.uniform(name + ".bias", (c_out,), k * k * c_in)

        def linear(self, name, a, b):
            self.uniform(name + ".weight", (a, b), a)
            self.uniform(name + ".bias", (b,), a)

        def norm(self, name, c):
            self.params[name + ".weight"] = jnp.ones((c,), jnp.float32)
            self.params[name + ".bias"] = jnp.zeros((c,), jnp.float32)

        def layers(self, prefix, specs, embedding=None):
            for j, (kind, a, b) in enumerate(specs):
                name = f"{prefix}.{j}"
                if kind == "res":
                    self.norm(name + ".norm1", a)
                    self.conv(name + ".conv1", a, b)
                    if embedding:
                        self.linear(name + ".emb", embedding, b)
                    self.norm(name + ".norm2", b)
                    self.conv(name + ".conv2", b, b)
                    if a != b:
                        self.conv(name + ".skip", a, b, k=1)
                elif kind == "norm":
                    self.norm(name + ".norm", a)
                else:
                    self.conv(name + ".conv", a, b)

    def init_unet(seed, out_channels=1):
        init, e, base = Init(seed), UNET["embedding"], UNET["base"]
        init.linear("time_embed.0", EMBEDDING_WIDTH, e)
        init.linear("time_embed.2", e, e)
        init.conv("input", 1, base)
        init.layers("down", UNET_DOWN, e)
        init.layers("middle", UNET_MIDDLE, e)
        init.layers("up", UNET_UP, e)
        init.norm("out_norm", base)
        init.params["out.weight"] = jnp.zeros((3, 3, base, out_channels), jnp.float32)  # zero_module
        init.params["out.bias"] = jnp.zeros((out_channels,), jnp.float32)
        return init.params

    def init_conv_vae(seed):
        init, latent, flat = Init(seed), CONV_VAE["latent"], CONV_VAE["flat"]
        init.layers("encoder", CONV_VAE_ENCODER)
        init.linear("encode", flat, 2 * latent)
        init.linear("decode", latent, flat)
        init.layers("decoder", CONV_VAE_DECODER)
        return init.params

    def init_mlp_denoiser(seed):
        init, sizes = Init(seed), ddpm_layer_sizes(784, 512)
        for j, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            init.linear(str(2 * j), a, b)  # nn.Sequential's indices (SiLU between)
        return init.params

    def conv2d(p, name, x, stride=1):
        w = p[name + ".weight"]
        pad = (w.shape[0] - 1) // 2  # explicit: "SAME" would pad a stride-2 conv (0, 1), not (1, 1)
        y = jax.lax.conv_general_dilated(x, w, (stride, stride), ((pad, pad), (pad, pad)),
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return y + p[name + ".bias"]

    def linear(p, name, x):
        return x @ p[name + ".weight"] + p[name + ".bias"]

    def group_norm(p, name, x):
        b, h, w, c = x.shape
        g = x.reshape(b, h, w, NORM_GROUPS, c // NORM_GROUPS)
        mean = g.mean(axis=(1, 2, 4), keepdims=True)
        var = jnp.mean(jnp.square(g - mean), axis=(1, 2, 4), keepdims=True)
        g = (g - mean) * jax.lax.rsqrt(var + NORM_EPS)
        return g.reshape(b, h, w, c) * p[name + ".weight"] + p[name + ".bias"]

    def layer(p, name, kind, x, emb=None):
        if kind == "res":
            h = conv2d(p, name + ".conv1", jax.nn.silu(group_norm(p, name + ".norm1", x)))
            if emb is not None:
                h = h + linear(p, name + ".emb", jax.nn.silu(emb))[:, None, None, :]
            h = conv2d(p, name + ".conv2", jax.nn.silu(group_norm(p, name + ".norm2", h)))
            return (conv2d(p, name + ".skip", x) if name + ".skip.weight" in p else x) + h
        if kind == "norm":
            return jax.nn.silu(group_norm(p, name + ".norm", x))
        if kind == "up":
            x = jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)  # nearest-neighbour ×2
        return conv2d(p, name + ".conv", x, stride=2 if kind == "down" else 1)

    frequencies = jnp.asarray(embedding_frequencies())

    def sinusoidal(t):
        angles = t.astype(jnp.float32)[:, None] * frequencies[None, :]
        return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=1)

    def unet(p, x, t):
        """x [B, 28, 28, 1], t integers [B] -> [B, 28, 28, C_out]."""
        emb = linear(p, "time_embed.2", jax.nn.silu(linear(p, "time_embed.0", sinusoidal(t))))
        h = conv2d(p, "input", x)
        stack = [h]
        for j, (kind, _, _) in enumerate(UNET_DOWN):
            h = layer(p, f"down.{j}", kind, h, emb)
            stack.append(h)
        for j, (kind, _, _) in enumerate(UNET_MIDDLE):
            h = layer(p, f"middle.{j}", kind, h, emb)
        for j, (kind, _, _) in enumerate(UNET_UP):
            if kind == "res":
                h = jnp.concatenate([h, stack.pop()], axis=-1)
            h = layer(p, f"up.{j}", kind, h, emb)
        return conv2d(p, "out", jax.nn.silu(group_norm(p, "out_norm", h)))

    def encode_moments(p, x):
        """x [B, 28, 28, 1] -> (μ, log σ²)."""
        h = x
        for j, (kind, _, _) in enumerate(CONV_VAE_ENCODER):
            h = layer(p, f"encoder.{j}", kind, h)
        return jnp.split(linear(p, "encode", h.reshape(h.shape[0], -1)), 2, axis=1)

    def decode_logits(p, z):
        """z [B, latent] -> logits [B, 28, 28, 1]."""
        h = linear(p, "decode", z).reshape(z.shape[0], 7, 7, -1)
        for j, (kind, _, _) in enumerate(CONV_VAE_DECODER):
            h = layer(p, f"decoder.{j}", kind, h)
        return h

    def mlp_eps(p, x, t):
        h = jnp.concatenate([x, sinusoidal(t)], axis=1)
        count = len(p) // 2
        for j in range(count):
            h = linear(p, str(2 * j), h)
            if j < count - 1:
                h = jax.nn.silu(h)
        return h

    def unet_eps(p, x, t):
        return unet(p, x.reshape(x.shape[0], IMAGE_SIDE, IMAGE_SIDE, 1), t).reshape(x.shape[0], -1)

    # improved-diffusion's losses.py
    def normal_kl(mean1, logvar1, mean2, logvar2):
        return 0.5 * (-1.0 + logvar2 - logvar1 + jnp.exp(logvar1 - logvar2)
                      + ((mean1 - mean2) ** 2) * jnp.exp(-logvar2))

    def approx_standard_normal_cdf(x):
        return 0.5 * (1.0 + jnp.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))

    def discretized_gaussian_log_likelihood(x, means, log_scales):
        centered_x = x - means
        inv_stdv = jnp.exp(-log_scales)
        cdf_plus = approx_standard_normal_cdf(inv_stdv * (centered_x + 1.0 / 255.0))
        cdf_min = approx_standard_normal_cdf(inv_stdv * (centered_x - 1.0 / 255.0))
        log_cdf_plus = jnp.log(jnp.maximum(cdf_plus, 1e-12))
        log_one_minus_cdf_min = jnp.log(jnp.maximum(1.0 - cdf_min, 1e-12))
        cdf_delta = cdf_plus - cdf_min
        return jnp.where(x < -0.999, log_cdf_plus,
                         jnp.where(x > 0.999, log_one_minus_cdf_min, jnp.log(jnp.maximum(cdf_delta, 1e-12))))

    def elbo_bpd(eps_of, params, x0, timesteps, noise_of):
        """improved-diffusion's calc_bpd_loop(clip_denoised=True)["total_bpd"] (see the PyTorch
        one), as one lax.fori_loop over t (to be traced inside jit). noise_of(i) -> ε at index i."""
        schedule = {k: jnp.asarray(v.astype(np.float32 if k != "model_t" else np.int32))
                    for k, v in elbo_schedule(timesteps).items()}
        batch, log2 = x0.shape[0], math.log(2.0)

        def body(j, total):
            i = timesteps - 1 - j  # from t = T down to 1, as improved-diffusion
            c = {k: v[i] for k, v in schedule.items()}
            x_t = c["sqrt_alpha_bar"] * x0 + c["sqrt_one_minus_alpha_bar"] * noise_of(i)
            eps = eps_of(params, x_t, jnp.full((batch,), c["model_t"]))
            pred_x0 = jnp.clip(c["sqrt_recip_alpha_bar"] * x_t - c["sqrt_recipm1_alpha_bar"] * eps, -1, 1)
            model_mean = c["posterior_mean_coef1"] * pred_x0 + c["posterior_mean_coef2"] * x_t
            true_mean = c["posterior_mean_coef1"] * x0 + c["posterior_mean_coef2"] * x_t
            log_variance = c["posterior_log_variance_clipped"]
            # As improved-diffusion: both terms, then where(t == 0, decoder NLL, KL).
            kl = normal_kl(true_mean, log_variance, model_mean, log_variance).mean(axis=1) / log2
            nll = -discretized_gaussian_log_likelihood(x0, model_mean, 0.5 * log_variance).mean(axis=1) / log2
            return total + jnp.where(i == 0, nll, kl)

        total = jax.lax.fori_loop(0, timesteps, body, jnp.zeros((batch,), jnp.float32))
        prior = normal_kl(schedule["sqrt_alpha_bar"][-1] * x0, schedule["log_one_minus_alpha_bar"][-1], 0.0, 0.0)
        return total + prior.mean(axis=1) / log2

    return types.SimpleNamespace(init_unet=init_unet, init_conv_vae=init_conv_vae,
                                 init_mlp_denoiser=init_mlp_denoiser, unet=unet,
                                 encode_moments=encode_moments, decode_logits=decode_logits,
                                 mlp_eps=mlp_eps, unet_eps=unet_eps, elbo_bpd=elbo_bpd)


# numpy ------------------------------------------------------------------------------------------
def numpy_gemm(n):
    import numpy as np
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), np.float32)  # written in place: the product, not the allocator, is timed
    return (lambda: np.matmul(a, b, out=c)), (lambda: None)


# Self-test --------------------------------------------------------------------------------------
def self_test(args):
    """PyTorch against JAX on the convolutional models (weights copied across) and the ELBO
    (shared noise), and both parameter counts against the spec's. Returns the exit status."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import numpy as np
    import torch
    import jax
    import jax.numpy as jnp
    timesteps = args.elbo_timesteps or 10
    tc, jc = torch_conv_models(), jax_conv_models()
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    failures = []

    def check(what, ok, detail):
        print(f"  {'ok  ' if ok else 'FAIL'} {what}: {detail}")
        if not ok:
            failures.append(what)

    def to_jax(module, like):
        """The module's weights in the JAX layout (conv OIHW -> HWIO, linear [out, in] -> [in, out])."""
        state, out = module.state_dict(), {}
        for name, value in like.items():
            v = state[name].detach().numpy()
            v = v.transpose(2, 3, 1, 0) if v.ndim == 4 else v.T if v.ndim == 2 else v
            assert v.shape == value.shape, (name, v.shape, value.shape)
            out[name] = jnp.asarray(v)
        assert set(state) == set(like), set(state) ^ set(like)
        return out

    def relative(a, b):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        return float(np.max(np.abs(a - b)) / max(1e-30, np.max(np.abs(b))))

    def count(tree):
        return sum(int(np.prod(v.shape)) for v in jax.tree_util.tree_leaves(tree))

    print("Parameter counts (spec / PyTorch / JAX):")
    nets = {"U-Net, C_out = 1": (unet_cost(1)[0], tc.UNet(1), jc.init_unet(0, 1)),
            "U-Net, C_out = 2": (unet_cost(2)[0], tc.UNet(2), jc.init_unet(0, 2)),
            "ResNet VAE": (conv_vae_cost()[0], tc.ConvVAE(), jc.init_conv_vae(0)),
            "ddpm784 MLP": (sum(a * b + b for a, b in zip(ddpm_layer_sizes(784, 512)[:-1],
                                                           ddpm_layer_sizes(784, 512)[1:])),
                            tc.mlp_denoiser(), jc.init_mlp_denoiser(0))}
    for name, (spec, module, params) in nets.items():
        counts = (spec, sum(p.numel() for p in module.parameters()), count(params))
        check(name, len(set(counts)) == 1, " / ".join(f"{c:,}" for c in counts))
    print(f"Forward multiply-adds per image: U-Net {unet_cost()[1]:,}, ResNet VAE {conv_vae_cost()[1]:,}")

    print("Forward passes, PyTorch weights copied into JAX (max |difference| / max |value|):")
    unet = tc.UNet(1)
    torch.nn.init.uniform_(unet.out.weight, -0.05, 0.05)  # the zero init would hide everything
    torch.nn.init.uniform_(unet.out.bias, -0.05, 0.05)
    unet_params = to_jax(unet, jc.init_unet(0, 1))
    x = rng.uniform(-1, 1, (4, 1, IMAGE_SIDE, IMAGE_SIDE)).astype(np.float32)
    t = np.array([1, 10, 500, 1000])
    with torch.no_grad():
        nchw = unet(torch.from_numpy(x), torch.from_numpy(t)).numpy()
        cl_net = tc.UNet(1)
        cl_net.load_state_dict(unet.state_dict())
        cl_net = cl_net.to(memory_format=torch.channels_last)
        cl = cl_net(torch.from_numpy(x).contiguous(memory_format=torch.channels_last), torch.from_numpy(t)).numpy()
    nhwc = np.asarray(jax.jit(jc.unet)(unet_params, jnp.asarray(x.transpose(0, 2, 3, 1)), jnp.asarray(t)))
    error = relative(nhwc.transpose(0, 3, 1, 2), nchw)
    check("U-Net, JAX vs PyTorch", error < 1e-4, f"{error:.2e}")
    error = relative(cl, nchw)
    check("U-Net, PyTorch channels_last vs NCHW", error < 1e-4, f"{error:.2e}")

    vae = tc.ConvVAE()
    vae_params = to_jax(vae, jc.init_conv_vae(0))
    x = rng.uniform(0, 1, (4, 1, IMAGE_SIDE, IMAGE_SIDE)).astype(np.float32)
    z = rng.standard_normal((4, CONV_VAE["latent"])).astype(np.float32)
    with torch.no_grad():
        moments = [m.numpy() for m in vae.encode_moments(torch.from_numpy(x))]
        logits = vae.decode_logits(torch.from_numpy(z)).numpy()
    j_moments = jax.jit(jc.encode_moments)(vae_params, jnp.asarray(x.transpose(0, 2, 3, 1)))
    j_logits = np.asarray(jax.jit(jc.decode_logits)(vae_params, jnp.asarray(z)))
    error = max(relative(j, t_) for j, t_ in zip(j_moments, moments))
    check("VAE encoder (μ, log σ²), JAX vs PyTorch", error < 1e-4, f"{error:.2e}")
    error = relative(j_logits.transpose(0, 3, 1, 2), logits)
    check("VAE decoder logits, JAX vs PyTorch", error < 1e-4, f"{error:.2e}")

    print(f"DDPM ELBO (bits per dimension) of the 16 images at T = {timesteps}, the same noise:")
    x0 = elbo_images()
    noise = rng.standard_normal((timesteps,) + x0.shape).astype(np.float32)
    mlp = tc.mlp_denoiser()
    denoisers = {
        "zero network (ε̂ ≡ 0)": (lambda x, t: torch.zeros_like(x), lambda p, x, t: jnp.zeros_like(x), {}),
        "ddpm784 MLP": (tc.mlp_eps(mlp), jc.mlp_eps, to_jax(mlp, jc.init_mlp_denoiser(0))),
        "U-Net": (tc.unet_eps(unet), jc.unet_eps, unet_params),
    }
    for name, (torch_eps, jax_eps, params) in denoisers.items():
        with torch.no_grad():
            ours = tc.elbo_bpd(torch_eps, torch.from_numpy(x0), timesteps, lambda i: torch.from_numpy(noise[i])).numpy()
        theirs = np.asarray(jax.jit(lambda p, x0, n: jc.elbo_bpd(jax_eps, p, x0, timesteps, lambda i: n[i]))(
            params, jnp.asarray(x0), jnp.asarray(noise)))
        error = relative(theirs, ours)
        check(f"{name}, JAX vs PyTorch", error < 1e-4 and np.all(np.isfinite(ours)),
              f"{error:.2e} (PyTorch mean {ours.mean():.6f}, JAX mean {theirs.mean():.6f} bits/dim)")
    print("self-test: " + ("all passed" if not failures else f"{len(failures)} FAILED: " + "; ".join(failures)))
    return 1 if failures else 0


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
        builders = torch_workloads(compiled=framework == "torch-compile", elbo_timesteps=args.elbo_timesteps)
        gemm = torch_gemm if framework == "torch" else None
    elif framework == "jax":
        import jax
        import jaxlib
        result["version"] = f"jax {jax.__version__} / jaxlib {jaxlib.__version__}"
        result["devices"] = str(jax.devices())
        builders, gemm = jax_workloads(args.elbo_timesteps), jax_gemm
    elif framework == "numpy":
        import numpy
        result["version"] = numpy.__version__
        builders, gemm = {}, numpy_gemm
    else:
        raise ValueError(framework)
    # After the import, so that the framework's BLAS / OpenMP libraries are loaded and limited.
    limits = threadpoolctl.threadpool_limits(threads)  # noqa: F841 (the limit lasts while it lives)
    result["threadpools"] = threadpoolctl.threadpool_info()

    def timed(workload, builder):
        try:
            call, finish, *extra = builder()
            units = (IWAE["points_per_call"] if workload == "iwae"
                     else ELBO["examples"] if workload.startswith("ddpm-elbo") else 1)
            rate = steady_rate(call, finish, units, args)
            rate.update(extra[0] if extra else {})
        except Exception as error:  # one failing workload must not lose the others' figures
            rate = {"error": f"{type(error).__name__}: {error}"[:500]}
        result["workloads"][workload] = rate
        print(f"  [{framework} {threads}T] {workload}: {rate}", file=sys.stderr, flush=True)
        return rate

    for workload in args.workloads:
        if workload == "gemm":
            continue
        if workload in builders:
            timed(workload, builders[workload])
        elif workload == "unet28" and all(v in builders for v in TORCH_UNET_FORMATS):
            # PyTorch: both memory formats are timed; "unet28" is a copy of the faster one.
            rates = {v: timed(v, builders[v]) for v in TORCH_UNET_FORMATS}
            good = [v for v in rates if "error" not in rates[v]]
            if good:
                best = max(good, key=lambda v: rates[v]["median"])
                result["workloads"]["unet28"] = dict(rates[best], memory_format=TORCH_UNET_FORMATS[best])
            else:
                result["workloads"]["unet28"] = rates["unet28_nchw"]

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
               "--idle-timeout", str(args.idle_timeout),
               "--elbo-timesteps", str(args.elbo_timesteps)]
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
                for field in DESCRIPTIVE_FIELDS:  # the same in every round, or one per round
                    values = [r[field] for r in good if field in r]
                    if values:
                        entry[section][key][field] = values[0] if all(v == values[0] for v in values) else values
        combined.append(entry)
    return combined


DESCRIPTIVE_FIELDS = ("memory_format", "timesteps", "examples_per_call", "loop")


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

    models = []
    for w in args.workloads:  # PyTorch's unet28 also in each memory format, below it
        if w != "gemm":
            models.append(w)
            models.extend(v for v in (TORCH_UNET_FORMATS if w == "unet28" else ())
                          if any(v in r["workloads"] for r in runs))
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
                return [w, "points/s" if w == "iwae" else "examples/s" if w.startswith("ddpm-elbo") else "steps/s"]
            if first == ["workload", "GFLOP/unit"]:
                return [w, f"{gflop_per_unit(w, args.elbo_timesteps):.4f}"]
            return [w]

        def achieved(w, r):
            return "–" if not r or "error" in r else f"{r['median'] * gflop_per_unit(w, args.elbo_timesteps):.1f}"

        def first_call(w, r):
            return "–" if not r or "error" in r else f"{r['first_call_s']:.2f}"

        grid("## Training steps/s (iwae: data points/s; ddpm-elbo: examples/s)", ["workload", "unit"],
             lambda w, r: figure(r))
        grid("Approximate achieved matrix-product GFLOP/s (training: 3 × the forward products' flops "
             "per step; iwae: forward flops):", ["workload", "GFLOP/unit"], achieved)
        grid("First call (including JIT compilation), seconds:", ["workload"], first_call)
        grid("Spread over rounds (min–max of the rounds' medians):", ["workload"], lambda w, r: spread(r))
        for f, t in model_columns:
            for w in models:
                r = by[(f, t)]["workloads"].get(w, {})
                if "error" in r:
                    lines.append(f"- error {f} {t}T {w}: `{r['error']}`")
                elif w in ("unet28", "ddpm-elbo-unet") and "memory_format" in r:
                    lines.append(f"- {f} {t}T {w}: memory format {r['memory_format']}"
                                 + (" (the faster of the two timed)" if w == "unet28" else
                                    " (the faster in a short probe of forward passes)"))
        if any(w.startswith("ddpm-elbo") for w in models):
            lines.append(f"- ddpm-elbo: T = {args.elbo_timesteps} network passes per call, "
                         f"{ELBO['examples']} examples per call.")
        lines.append("")

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
    parser.add_argument("--workloads", nargs="+", default=["all"],
                        choices=list(GROUPS) + WORKLOADS + CONV_WORKLOADS,
                        help="workloads, or the groups all (the five of compare bench; the default) "
                             "and conv (" + ", ".join(CONV_WORKLOADS) + ")")
    parser.add_argument("--elbo-timesteps", type=int, default=None,
                        help="T of the ddpm-elbo workloads (network passes per call; default 1000; "
                             "smaller for quick runs: the rate is per example at this T)")
    parser.add_argument("--self-test", action="store_true",
                        help="check the convolutional models and the ELBO: PyTorch against JAX "
                             "(both needed), parameter counts against the spec; T = 10 unless "
                             "--elbo-timesteps is given")
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
    args = parser.parse_args(argv)
    args.workloads = expand_workloads(args.workloads)
    if not args.self_test and args.elbo_timesteps is None:
        args.elbo_timesteps = TIMESTEPS
    if args.elbo_timesteps is not None and args.elbo_timesteps < 2:
        parser.error("--elbo-timesteps must be at least 2")
    return args


def main():
    args = parse_arguments()
    if args.self_test:
        sys.exit(self_test(args))
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
