"""Monte-Carlo VaR/ES: a pilot picks the variance reduction, then one engine runs in process or on Dask.

The pilot (two short runs on their own streams) estimates, per scenario and per unit of
work, the variance of the VaR estimator under each design the model allows:

* ``none`` — plain sampling;
* ``antithetic`` — pairs ``(ε, −ε)`` (reflected about the proposal's centre under
  importance sampling); a twin costs no second matrix product;
* ``importance`` — a mean shift of the latent normals along the book's linearised loss
  direction, ``z = ε − θd`` with ``θ`` chosen so that the proposal's linear loss is centred on
  the pilot's VaR, and likelihood-ratio weights ``exp(θu + θ²/2)``;
* ``control`` — the delta (linear) P&L, normal in closed form, as a control variate for the
  tail probability at VaR (its threshold is the linear VaR, exceeded with probability 1 − α).

``auto`` takes the design with the smallest variance × cost — among the importance-sampling
designs when the book has a loss direction (a pilot cannot measure plain designs well: they meet
the tail in only ``n(1 − α)`` of its scenarios, though their estimates are reported beside); the
result reports the variance-reduction factor measured on the main run (plain variance over the chosen
design's, per scenario). The main run keeps only a band of losses around the pilot's
VaR scenario by scenario (see :mod:`astra.risk.tails`); should VaR fall outside it, the
same chunks are re-run with a wider band. With ``target_se`` the run grows in whole
blocks of chunks until VaR's relative standard error reaches the target, or stops at
``max_scenarios`` and says it did not converge. Memory is estimated before anything
runs, and a run that would not fit is refused with the figure and what would make it fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from astra.errors import InputError
from astra.risk._checks import as_exposures, check_horizon, check_level
from astra.risk.engine import (
    PILOT_KEY,
    McJob,
    chunk_sizes,
    default_workers,
    execute,
    grow_chunks,
    root_seed,
    run_chunks,
)
from astra.risk.models import LinearTerms, ScenarioModel
from astra.risk.tails import Summary, TailPlan, _density_at, estimate

__all__ = ["MAX_IN_PROCESS", "VARIANCE_REDUCTIONS", "McOutcome", "monte_carlo", "parse_variance_reduction"]

TECHNIQUES = ("importance", "antithetic", "control")
VARIANCE_REDUCTIONS = ("auto", "none", *TECHNIQUES)  # or techniques joined by "+", e.g. "importance+antithetic"
MAX_IN_PROCESS = 10**8  # beyond this many scenarios a single process takes hours: use a cluster
MIN_SCENARIOS = 1_000
_PILOT_MAX, _PILOT_MIN = 20_000, 2_000  # scenarios per pilot stage
_BAND_SE = 6.0  # the band reaches this many pilot standard errors either side of the pilot's VaR
_WINDOW_SCENARIOS = 1_500  # scenarios the density's window should hold


@dataclass(frozen=True)
class McOutcome:
    """VaR/ES (USD) of a Monte-Carlo run with its errors, design, convergence and notes."""

    var: float
    es: float
    se_var: float
    se_es: float
    scenarios: int
    pilot_scenarios: int
    chunks: int
    workers: int
    converged: bool | None
    variance_reduction: dict
    memory_mib: float
    notes: tuple[str, ...]
    parts: dict | None = None


def parse_variance_reduction(value) -> str:
    """Canonical label: ``"auto"``, ``"none"`` or techniques in the order importance, antithetic, control."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"variance_reduction {value!r}: use auto, none, or {', '.join(TECHNIQUES)} joined by '+'")
    text = value.strip().lower()
    if text in ("auto", "none"):
        return text
    parts = [x.strip() for x in text.split("+")]
    unknown = [x for x in parts if x not in TECHNIQUES]
    if unknown or len(set(parts)) != len(parts):
        raise InputError(f"variance_reduction {value!r}: use auto, none, or {', '.join(TECHNIQUES)} joined by '+'")
    return "+".join(t for t in TECHNIQUES if t in parts)


def _has(label: str, technique: str) -> bool:
    return technique in label.split("+")


def _without(label: str, technique: str) -> str:
    rest = [t for t in label.split("+") if t != technique]
    return "+".join(rest) or "none"


def _candidates(model: ScenarioModel, requested: str, terms: LinearTerms, even: bool, notes: list) -> list[str]:
    """Designs the pilot may choose from (one when a design was requested)."""
    name = f"the {model.label} model"
    if requested != "auto":
        label = requested
        if label != "none" and not model.gaussian:
            raise InputError(f"variance_reduction {label!r} needs a normal, lognormal or t model, not {name} "
                             "(resampled history is sampled plainly)")  # fmt: skip
        if _has(label, "control") and not model.control:
            raise InputError(f"variance_reduction {label!r}: the delta control variate needs the normal model "
                             f"(its linear P&L is normal in closed form), not {name}")  # fmt: skip
        if _has(label, "antithetic") and not even:
            raise InputError("antithetic variates come in pairs: use an even number of scenarios")
        if _has(label, "importance") and not terms.sigma > 0:
            notes.append("importance sampling needs a loss direction, and this book's linearised P&L has none "
                         "(zero variance, e.g. all exposures zero): sampled without it")  # fmt: skip
            label = _without(label, "importance")
        return [label]
    if not model.gaussian:
        return ["none"]
    out = []
    for importance in (False, True):
        if importance and not terms.sigma > 0:
            notes.append("importance sampling was not tried: the book's linearised P&L has no loss direction "
                         "(zero variance, e.g. all exposures zero)")  # fmt: skip
            continue
        for antithetic in (False, True) if even else (False,):
            for control in (False, True) if model.control else (False,):
                parts = [t for t, on in zip(TECHNIQUES, (importance, antithetic, control), strict=True) if on]
                out.append("+".join(parts) or "none")
    return out


# --------------------------------------------------------------------------- pilot
@dataclass
class _Stage:
    """One pilot run: losses and linear coordinates of its scenarios (twins in the second half)."""

    theta: float
    pairs: bool
    loss: np.ndarray
    u: np.ndarray
    level: float
    terms: LinearTerms
    scale: float

    def __post_init__(self):
        n, p = self.loss.size, 1.0 - self.level
        self.weight = np.exp(self.theta * self.u + 0.5 * self.theta**2) if self.theta else np.ones(n)
        order = np.argsort(-self.loss, kind="stable")
        cum = np.cumsum(self.weight[order])
        j = min(int(np.searchsorted(cum, n * p - 1e-9, side="left")), n - 1)
        self.q = float(self.loss[order][j])
        bandwidth = 0.9 * self.scale * n ** (-0.2)
        self.f_model = _density_at(self.loss, self.q, bandwidth, self.weight)  # density of the book's loss
        self.f_proposal = _density_at(self.loss, self.q, bandwidth)  # density of the sampled losses
        self.a = np.where(self.loss > self.q, self.weight, 0.0)
        self.e = self.weight * np.maximum(self.loss - self.q, 0.0)
        if self.terms.sigma > 0:
            c = -self.terms.mean + self.terms.sigma * stats.norm.ppf(self.level)
            self.g = np.where(-(self.terms.mean + self.terms.sigma * self.u) > c, self.weight, 0.0)
        else:
            self.g = np.zeros(n)

    def numerator(self, pairs: bool, control: bool, which: str = "a") -> float:
        """Per-scenario variance of the VaR (``a``) or ES (``e``) influence numerator under a design."""
        half = self.loss.size // 2 if self.pairs else self.loss.size
        x, g = getattr(self, which), self.g
        if pairs:
            x, g, factor = 0.5 * (x[:half] + x[half:]), 0.5 * (g[:half] + g[half:]), 2.0
        else:
            x, g, factor = x[:half], g[:half], 1.0
        var_x = float(np.var(x, ddof=1))
        if control and which == "a":
            var_g = float(np.var(g, ddof=1))
            if var_g > 0:
                cov = float(np.cov(x, g)[0, 1])
                var_x -= cov * cov / var_g
        return factor * max(var_x, 0.0)

    def plain_numerator(self, control: bool) -> float:
        """Per-scenario variance of the plain (iid, unshifted) design's VaR numerator, estimated from this run.

        Under importance sampling the book's own probabilities are weighted means,
        ``P(A) = E_Q[w 1_A]``, so plain sampling's ``Var(1{L>q} − β 1{L_lin>c})`` comes out of
        the shifted scenarios far more precisely than from a plain pilot's few tail scenarios.
        """
        inside, flag = self.loss > self.q, self.g > 0
        p_a, p_g = float(np.mean(self.weight * inside)), float(np.mean(self.weight * flag))
        var_a = p_a * (1.0 - p_a)
        if not control or not 0 < p_g < 1:
            return var_a
        cov = float(np.mean(self.weight * (inside & flag))) - p_a * p_g
        return max(var_a - cov * cov / (p_g * (1.0 - p_g)), 0.0)

    @property
    def se_q(self) -> float:
        return math.sqrt(self.numerator(self.pairs, False) / self.loss.size) / self.f_model if self.f_model > 0 else 0.0


def _stage(model, terms, horizon, root, index, n, theta, pairs, level, workers) -> tuple[np.ndarray, np.ndarray]:
    """Losses and linear coordinates of one pilot run on its own streams (twins in the second half)."""
    size = model.chunk_size(horizon, pairs)
    job = McJob(model, terms, horizon, root, TailPlan(level=level, theta=theta, antithetic=pairs), size,
                key=PILOT_KEY + index * 2**32)  # fmt: skip

    def raw(item):
        draw = job.draw(*item)
        return -draw.pnl, (draw.u.copy() if draw.u is not None else np.zeros(draw.pnl.size))

    firsts, twins, u_first, u_twin = [], [], [], []
    for loss, u in run_chunks(raw, list(enumerate(chunk_sizes(n, size))), workers):
        half = loss.size // 2 if pairs else loss.size
        firsts.append(loss[:half]), twins.append(loss[half:]), u_first.append(u[:half]), u_twin.append(u[half:])
    return np.concatenate(firsts + twins), np.concatenate(u_first + u_twin)


@dataclass
class _Choice:
    """The pilot's verdict: the design (None when the P&L is constant), its stage, every design's score."""

    label: str | None
    stage: _Stage
    scores: dict
    plain: float
    scenarios: int


def _pilot(model, terms, horizon, root, level, pilot_n, candidates, workers, notes) -> _Choice:
    """Run the pilot stages and pick the design with the smallest variance × cost.

    Stage 0 samples plainly (in antithetic pairs for Gaussian models, whose first members are an
    iid sample); stage 1, when importance sampling is a candidate, samples the shifted proposal
    with ``θ = (VaR₀ + m)/σ`` — the linear loss's centre moved onto stage 0's VaR. A design's
    score is its per-scenario variance of VaR's influence numerator times its cost per scenario.
    """
    loss, u = _stage(model, terms, horizon, root, 0, pilot_n, 0.0, model.gaussian, level, workers)
    scale = float(np.std(loss))
    stages = {False: _Stage(0.0, model.gaussian, loss, u, level, terms, scale if scale > 0 else 1.0)}
    if not scale > 0:
        return _Choice(None, stages[False], {}, 0.0, loss.size)
    theta = (stages[False].q + terms.mean) / terms.sigma if terms.sigma > 0 else 0.0
    if any(_has(c, "importance") for c in candidates):
        if theta < 0.1:
            notes.append(f"importance sampling not used: VaR is not beyond the mean linear loss (shift {theta:.2f} sd)")
            candidates = sorted({_without(c, "importance") for c in candidates}, key=candidates.index)
        else:
            theta = min(theta, 8.0)
            loss, u = _stage(model, terms, horizon, root, 1, pilot_n, theta, True, level, workers)
            stages[True] = _Stage(theta, True, loss, u, level, terms, scale)
    sharpest = stages.get(True, stages[False])  # plain iid designs are measured best under the shifted proposal
    scores = {}
    for label in candidates:
        if label in ("none", "control"):
            scores[label] = sharpest.plain_numerator(label == "control")
        else:
            cost = model.pair_cost(horizon) if _has(label, "antithetic") else 1.0
            stage = stages[_has(label, "importance")]
            scores[label] = stage.numerator(_has(label, "antithetic"), _has(label, "control")) * cost
    # Plain designs meet the tail in only n(1−α) pilot scenarios, too few to measure them reliably; when the
    # shift is available the choice is among the designs that use it (all measured on the shifted stage, where
    # about half the scenarios inform the tail), and the plain ones are reported for comparison.
    eligible = [c for c in scores if _has(c, "importance")] or list(scores)
    label = min(eligible, key=scores.get)
    return _Choice(label, stages[_has(label, "importance")], scores, sharpest.plain_numerator(False),
                   sum(stage.loss.size for stage in stages.values()))  # fmt: skip


def _main_plan(chosen: _Stage, terms, level, n_main, antithetic, control, components, importance) -> TailPlan:
    """The band ``q₀ ± (6 pilot s.e. + window)`` and the density window for ``n_main`` scenarios.

    The window (half-width of the density's symmetric difference) is Silverman's for a uniform
    kernel, ``0.9·√3·σ·n^(−1/5)``, or narrower when the sampled losses are dense at VaR (about
    1,500 scenarios in it are plenty for an error estimate).
    """
    window = 0.9 * math.sqrt(3.0) * chosen.scale * n_main ** (-0.2)
    if chosen.f_proposal > 0:
        window = min(window, _WINDOW_SCENARIOS / (2.0 * n_main * chosen.f_proposal))
    half_band = _BAND_SE * chosen.se_q + window
    return TailPlan(level=level, theta=chosen.theta if importance else 0.0, antithetic=antithetic, control=control,
                    lower=chosen.q - half_band, upper=chosen.q + half_band, q_ref=chosen.q,
                    threshold=-terms.mean + terms.sigma * stats.norm.ppf(level), lin_mean=terms.mean,
                    lin_sigma=terms.sigma, components=components, window=window)  # fmt: skip


# --------------------------------------------------------------------------- memory
def memory_budget() -> float:
    """Bytes a run may use: 60 % of the memory available now (Linux), else 4 GiB."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return 0.6 * int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4.0 * 2**30


def _memory(model, horizon, antithetic, chunk_size, workers, scenarios, band_share, components) -> dict:
    """Bytes by use: per-chunk work arrays in flight, the kept band of the tail (and its sort), the pilot."""
    per_band = 16 + (8 * model.n_names if components else 0)
    chunk = model._bytes_per_scenario(horizon, antithetic) * chunk_size * (workers + 1)
    band = 2.5 * scenarios * band_share * per_band  # arrays, their concatenation and the sort
    pilot = 2 * _PILOT_MAX * 48
    return {"chunk_buffers": chunk, "tail_band": band, "pilot": pilot, "total": chunk + band + pilot}


def _gib(x: float) -> str:
    return f"{x / 2**30:.1f} GiB"


def _check_memory(need: dict, scenarios: int, components: bool, distributed: bool) -> None:
    budget = memory_budget()
    if need["total"] <= budget:
        return
    advice = ["fewer scenarios"]
    if components:
        advice.insert(0, "no Euler components (components=False, --no-components)")
    if not distributed:
        advice.append("a cluster runner (runner=…, --cluster), where the chunks run on workers")
    raise InputError(f"scenarios={scenarios:,} would need about {_gib(need['total'])} (kept tail "
                     f"{_gib(need['tail_band'])}, chunk buffers {_gib(need['chunk_buffers'])}) but about "
                     f"{_gib(budget)} is available: use {' or '.join(advice)}")  # fmt: skip


# --------------------------------------------------------------------------- the run
def monte_carlo(
    model: ScenarioModel,
    exposures,
    *,
    level: float = 0.99,
    horizon: int = 1,
    scenarios: int = 100_000,
    seed=None,
    variance_reduction: str = "auto",
    target_se: float | None = None,
    max_scenarios: int = 10_000_000,
    components: bool = False,
    workers: int | None = None,
    runner=None,
    chunk: int | None = None,
) -> McOutcome:
    """VaR/ES of ``exposures`` under ``model`` by Monte Carlo (see the module notes).

    Parameters
    ----------
    model : ScenarioModel
        A model from :mod:`astra.risk.models` (a lognormal model spans its horizon: pass ``horizon=1``).
    exposures : array_like, shape (N,)
        Signed USD market values.
    level, horizon : float, int
        Confidence level α and days.
    scenarios : int
        Scenarios of the main run (without ``target_se``); at least 1,000.
    seed : int, SeedSequence, Generator or None
        The same seed gives the same numbers in process, with threads and on a cluster.
    variance_reduction : str
        ``"auto"`` (the pilot chooses), ``"none"``, or techniques joined by ``+``:
        ``importance``, ``antithetic``, ``control``.
    target_se : float, optional
        Stop when VaR's relative standard error reaches this (e.g. 0.005); ``scenarios`` is then ignored.
    max_scenarios : int
        Cap of a ``target_se`` run; reaching it without the target flags the result not converged.
    components : bool
        Keep what Euler attribution needs (per-name returns of the band, weighted tail sums).
    workers : int, optional
        Threads in process (default: the CPUs available).
    runner : astra.parallel.Runner, optional
        A cluster runner: consecutive chunks run as tasks of about ``chunk`` scenarios.
    """
    level, horizon = check_level(level), check_horizon(horizon)
    if model.one_draw and horizon != 1:
        raise InputError("a lognormal model already spans its horizon: run it with horizon=1")
    e = as_exposures(exposures)
    if e.size != model.n_names:
        raise InputError(f"exposures have {e.size} names but the scenario model has {model.n_names}")
    scenarios = _count(scenarios, "scenarios", level)
    if target_se is not None:
        if isinstance(target_se, bool) or not isinstance(target_se, int | float) or not 0 < target_se < 1:
            raise InputError(f"target_se {target_se!r} must be a relative standard error in (0, 1), e.g. 0.005")
        max_scenarios = _count(max_scenarios, "max_scenarios", level)
    if chunk is not None and (isinstance(chunk, bool) or int(chunk) != chunk or chunk < 1):
        raise InputError(f"chunk {chunk!r} must be a positive number of scenarios per task")
    distributed = runner is not None and getattr(runner, "distributed", True)
    cap = max_scenarios if target_se is not None else scenarios
    if cap > MAX_IN_PROCESS and not distributed:
        raise InputError(f"scenarios={cap:,} in one process is beyond its limit of {MAX_IN_PROCESS:,} "
                         "(hours of work): pass a cluster runner (runner=…, --cluster) or fewer scenarios")  # fmt: skip
    workers = default_workers() if workers is None else int(workers)
    requested = parse_variance_reduction(variance_reduction)
    terms = model.linear_terms(e, horizon) or LinearTerms(0.0, 0.0, np.zeros(0), e, horizon)
    notes: list[str] = []
    candidates = _candidates(model, requested, terms, target_se is not None or scenarios % 2 == 0, notes)
    first_size = model.chunk_size(horizon, any(_has(c, "antithetic") for c in candidates))
    nominal = cap if target_se is None else min(cap, 1_000_000)  # a target run re-checks as it grows
    _check_memory(_memory(model, horizon, True, first_size, workers, nominal, 0.05, components), nominal,
                  components, distributed)  # fmt: skip
    root = root_seed(seed)

    pilot_n = 2 * (max(_PILOT_MIN, min(_PILOT_MAX, (cap if target_se is None else 400_000) // 20)) // 2)
    pilot = _pilot(model, terms, horizon, root, level, pilot_n, candidates, workers, notes)
    if pilot.label is None:  # the P&L does not vary
        return _constant(pilot.stage.loss, requested, workers, notes, components, e)
    label, chosen, scores = pilot.label, pilot.stage, pilot.scores
    antithetic, control = _has(label, "antithetic"), _has(label, "control")
    size = model.chunk_size(horizon, antithetic)
    if antithetic and target_se is not None:
        cap -= cap % 2  # a target run may end on a partial chunk at the cap: keep it whole pairs
    if target_se is None:
        n_main = scenarios
    else:  # from the pilot's variance per scenario: n = V / (f · target · VaR)²
        per_scenario = scores[label] / (model.pair_cost(horizon) if antithetic else 1.0)
        scale = chosen.f_model * target_se * abs(chosen.q)
        wanted = per_scenario / scale**2 if scale > 0 else cap
        n_main = min(cap, size * math.ceil(max(MIN_SCENARIOS, wanted) / size))  # whole chunks, or the cap
    plan = _main_plan(chosen, terms, level, n_main, antithetic, control, components, _has(label, "importance"))
    share = 1.5 * float(np.mean((chosen.loss > plan.lower) & (chosen.loss <= plan.upper))) + 1e-3
    need = _memory(model, horizon, antithetic, size, workers, n_main, share, components)
    _check_memory(need, n_main, components, distributed)
    job = McJob(model, terms, horizon, root, plan, size)
    run = _Runner(job, workers, runner if distributed else None, chunk, notes)

    # ---- main run (and growth towards a target standard error)
    est = run.settle(grow_chunks([], n_main, size))
    converged = None
    if target_se is not None:
        converged = _relative(est) <= target_se
        while not converged and run.scenarios < cap:
            grow = run.scenarios * (_relative(est) / target_se) ** 2 * 1.1  # s.e. ∝ 1/√n, and a margin
            n_next = min(cap, size * math.ceil(max(grow, run.scenarios + size) / size))
            need = _memory(model, horizon, antithetic, size, workers, n_next, share, components)
            if need["total"] > memory_budget():
                notes.append(f"stopped at {run.scenarios:,} scenarios: {n_next:,} would not fit in memory")
                break
            est = run.extend(grow_chunks(run.chunks, n_next, size))
            converged = _relative(est) <= target_se
        if not converged:
            notes.append(f"target_se {target_se:g} not reached: relative standard error {_relative(est):.2%} after "
                         f"{run.scenarios:,} scenarios (max_scenarios {cap:,})")  # fmt: skip
    report = {
        "method": label,
        "chosen_by": "pilot" if requested == "auto" else "request",
        "factor_var": est["vr_var"],
        "factor_es": est["vr_es"],
        "shift": plan.theta or None,
        "control_slope": est["beta"] if control else None,
        "pilot_scenarios": pilot.scenarios,
        "pilot_gain": {k: _finite(pilot.plain / v if v > 0 else None) for k, v in scores.items()},
    }
    return McOutcome(var=est["var"], es=est["es"], se_var=est["se_var"], se_es=est["se_es"], scenarios=run.scenarios,
                     pilot_scenarios=report["pilot_scenarios"], chunks=len(run.chunks),
                     workers=int(getattr(runner, "workers", workers)) if distributed else workers, converged=converged,
                     variance_reduction=report, memory_mib=need["total"] / 2**20, notes=tuple(notes),
                     parts=est.get("parts"))  # fmt: skip


def _count(value, name: str, level: float) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer) or int(value) != value:
        raise InputError(f"{name} {value!r} must be a whole number of scenarios")
    if value < MIN_SCENARIOS:
        n, p = max(int(value), 1), 1.0 - level
        z = stats.norm.ppf(level)
        rel = math.sqrt(p * (1.0 - p) / n) / stats.norm.pdf(z) / z  # order-statistic s.e. / VaR, normal P&L
        raise InputError(f"{name} {value!r} is too few for Monte Carlo: the tail rests on {n * p:.0f} scenarios, "
                         f"a standard error of about {rel:.0%} of VaR for a normal P&L; use at least "
                         f"{MIN_SCENARIOS:,}")  # fmt: skip
    return int(value)


def _relative(est: dict) -> float:
    return est["se_var"] / abs(est["var"]) if est["var"] else math.inf


def _finite(x):
    return float(x) if x is not None and math.isfinite(x) else None


class _Runner:
    """The main run's chunks so far, their merged tail, and re-runs with a wider band when VaR escapes it."""

    def __init__(self, job: McJob, workers: int, runner, chunk, notes: list):
        self.job, self.workers, self.runner, self.chunk, self.notes = job, workers, runner, chunk, notes
        self.chunks: list[tuple[int, int]] = []
        self.total = self._empty()

    @property
    def scenarios(self) -> int:
        return sum(size for _, size in self.chunks)

    def _empty(self) -> Summary:
        return Summary(self.job.model.n_names if self.job.plan.components else None)

    def _run(self, chunks) -> None:
        execute(self.job, chunks, self.total, workers=self.workers, runner=self.runner,
                task_scenarios=self.chunk or 2_000_000)  # fmt: skip

    def settle(self, chunks) -> dict:
        self.chunks = list(chunks)
        self._run(self.chunks)
        return self._check()

    def extend(self, chunks) -> dict:
        self.chunks += chunks
        self._run(chunks)
        return self._check()

    def _check(self) -> dict:
        for attempt in range(4):
            est = estimate(self.total, self.job.plan)
            if est["status"] == "ok":
                return est
            plan = self.job.plan
            half = 0.5 * (plan.upper - plan.lower)
            if attempt == 3 or not math.isfinite(half):
                break
            centre = {"above": plan.upper + 2 * half, "below": plan.lower - 2 * half}.get(est["status"])
            centre = est.get("var", plan.q_ref) if centre is None else centre
            wider = replace(plan, lower=centre - 3 * half, upper=centre + 3 * half, q_ref=centre)
            if attempt == 2:
                wider = replace(plan, lower=-np.inf, upper=np.inf, q_ref=centre)
            self.notes.append(f"VaR fell outside the pilot's band ({est['status']}); the same scenarios were "
                              "summarised again with a wider band")  # fmt: skip
            self.job = replace(self.job, plan=wider)
            self.total = self._empty()
            self._run(self.chunks)
        raise InputError("the Monte-Carlo tail could not be located (the loss distribution has no density at VaR); "
                         "use more scenarios or method='hist'")  # fmt: skip


def _constant(loss: np.ndarray, requested, workers, notes, components, e) -> McOutcome:
    value = float(loss[0])
    notes.append("the P&L is the same in every scenario (no exposure to the model's risk): VaR and ES are exact")
    parts = {"marginal_var": np.zeros(e.size), "marginal_es": np.zeros(e.size)} if components else None
    report = {"method": "none", "chosen_by": "pilot" if requested == "auto" else "request", "factor_var": None,
              "factor_es": None, "shift": None, "control_slope": None, "pilot_scenarios": loss.size,
              "pilot_gain": {}}  # fmt: skip
    return McOutcome(var=value, es=value, se_var=0.0, se_es=0.0, scenarios=loss.size, pilot_scenarios=loss.size,
                     chunks=0, workers=workers, converged=None, variance_reduction=report, memory_mib=0.0,
                     notes=tuple(notes), parts=parts)  # fmt: skip
