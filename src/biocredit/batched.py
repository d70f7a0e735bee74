"""Several seeds of one configuration trained as one batched model (issue 11 item 3).

:func:`train_group` trains ``K`` networks that share the task, architecture, learning rule and training config and
differ only in their seed (and, as the workflow builds them, in ``conn_seed``, which follows the seed). Their
parameters are stacked along a leading seed axis (``W_rec`` is ``(K, N, N)``, ...), so that every matrix product of
a training step is one batched product (``bmm``/``baddbmm``) over the ``K`` networks instead of ``K`` small ones: on
a GPU this fills the device where one reach-size network cannot. The training itself is the project's one loop,
:func:`biocredit.train.training_loop`, with the seed batch (:class:`SeedBatch`) as its networks, so everything else
is kept per seed and done exactly as :func:`biocredit.train.train` does it: the initial weights come from each
seed's ``init`` stream, the training batches from its ``batches`` stream, the test batch from
:func:`~biocredit.train.evaluation_batches`, the activity-penalty weight adapts per seed
(:func:`~biocredit.train.adapted_penalty`), a seed whose loss turns non-finite stops (its log keeps NaN,
``attrs['diverged_at']`` records the update) while the others go on, and each seed gets its own
:class:`~biocredit.train.TrainResult` (checkpoint states, metrics), ready for
:func:`~biocredit.train.save_checkpoints`.

Why the numbers equal separate runs: the loss of the group is the sum of the per-seed losses, and no parameter is
shared, so each seed's gradient is that of its own loss; Adam and SGD act element by element, so one optimiser on
the stacked tensors takes each seed's own step. The recurrence runs in :class:`_BatchedRecurrence`, which does the
same operations in the same order as the fused single-network core (:class:`biocredit.model._FusedRecurrence`)
with each matrix product batched; the loss, penalty, L2 term and accuracy are computed per seed by the very
functions ``train`` uses, on slices laid out as ``train`` lays them out. On a CPU the batched products of the BLAS
round like the single ones in the cases tested (the tests check bit equality there and a float tolerance as the
fallback), on a GPU they may round differently (cuBLAS picks kernels by shape), so per-seed numbers agree to float
rounding amplified by training, not bit for bit.

Scope: rules that act through :meth:`~biocredit.learning.LearningRule.cuts_recurrence` alone (``bptt``, ``eprop``,
``tbptt``: the rules of study A's main comparison); any rule with another hook (random feedback, one-step credit,
a credit matrix or gain, no activity credit) is refused by name. Tasks with a finite training set (sMNIST) keep
their sampler state in the task object, which the seeds would share: refused too. ``grad_clip > 0`` is refused
(the clip norm would have to be taken per seed).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import torch

from biocredit._memory import keep_freed_memory
from biocredit.learning import BPTT, LearningRule
from biocredit.learning.base import LearningRule as _Base
from biocredit.model import ACTIVATION_GRADS, ACTIVATIONS, ACTIVATIONS_INTO, ModelConfig, RateRNN, mean_square
from biocredit.train import (
    Networks,
    TrainConfig,
    TrainResult,
    evaluation_batches,
    has_finite_sets,
    make_optimizer,
    new_run_logs,
    resolve_device,
    run_result,
    seed_streams,
    training_loop,
    weight_decay_term,
)

log = logging.getLogger(__name__)

__all__ = ["BatchedRNN", "train_group", "check_groupable", "batched_recurrence"]

#: per-checkpoint metrics train_group logs (a stop criterion may read the first two)
GROUP_CKPT_METRICS = ("test_loss", "test_accuracy")
#: parameter names in :class:`~biocredit.model.RateRNN`'s order (its ``state_dict`` and ``parameters()``)
PARAM_NAMES = ("w_in", "w_rec", "b", "w_out", "b_out", "a0")


def check_groupable(task, rule: LearningRule, config: TrainConfig) -> None:
    """Raise ``ValueError`` naming what cannot be trained as a batched group: a rule with any hook other than
    :meth:`~biocredit.learning.LearningRule.cuts_recurrence`, a task with a finite training set, ``grad_clip > 0``."""
    cls = type(rule)
    hooks = []
    if cls.readout is not _Base.readout:
        hooks.append("its own readout feedback")
    if cls.credit_matrix is not _Base.credit_matrix:
        hooks.append("a recurrent credit matrix")
    if rule.one_step_credit:
        hooks.append("one-step credit")
    if not rule.activity_credit:
        hooks.append("no activity credit")
    if rule.recurrent_credit_gain is not None:
        hooks.append("a recurrent credit gain")
    if hooks:
        raise ValueError(f"learning rule {rule.name!r} cannot be trained as a batched seed group (it uses "
                         f"{', '.join(hooks)}); train_group supports rules defined by cuts_recurrence alone "
                         "(bptt, eprop, tbptt): train its seeds separately")
    if has_finite_sets(task) or hasattr(task, "sampler_state"):
        raise ValueError(f"task {getattr(task, 'name', type(task).__name__)!r} has a finite training set whose "
                         "sampler state lives in the task object; train_group cannot share it between seeds")
    if config.grad_clip > 0:
        raise ValueError(f"train_group does not support grad_clip > 0 (got {config.grad_clip}): the clip norm is "
                         "per seed; train these seeds separately")
    if config.stop_at is not None and config.stop_metric not in GROUP_CKPT_METRICS:
        raise ValueError(f"train_group stops a seed on a metric it logs per checkpoint {GROUP_CKPT_METRICS}; "
                         f"stop_metric = {config.stop_metric!r} is not one of them: train these seeds separately")


class _BatchedRecurrence(torch.autograd.Function):
    """:class:`biocredit.model._FusedRecurrence` for ``K`` networks at once, restricted to the ``cut`` schedule (no
    one-step credit, credit matrix or gain). Layout ``(K, T, B, N)``: each network's rates are time-major and
    contiguous, as in the single core, and each step is one ``(K, B, N)`` block of strided views. Same operations,
    same order, with ``addmm`` -> ``baddbmm`` and ``mm`` -> ``bmm``."""

    @staticmethod
    def forward(ctx, drive, a0, w_rec, alpha, activation, cut):
        f_into = ACTIVATIONS_INTO[activation]
        k, n_steps, batch, n = drive.shape
        leak = alpha != 1
        h_all = drive.new_empty(k, n_steps, batch, n)
        w_t = (w_rec.transpose(1, 2) * alpha) if leak else w_rec.transpose(1, 2)
        a = a0.unsqueeze(1).expand(k, batch, n).contiguous()
        h = ACTIVATIONS[activation](a)
        for t in range(n_steps):
            if leak:
                a = torch.baddbmm(drive[:, t], h, w_t, alpha=1.0, beta=alpha).add_(a, alpha=1 - alpha)
            else:
                a = torch.baddbmm(drive[:, t], h, w_t)
            h = f_into(a, h_all[:, t])
        ctx.save_for_backward(a0, w_rec, h_all)
        ctx.alpha, ctx.activation, ctx.cut = alpha, activation, cut
        return h_all

    @staticmethod
    def backward(ctx, grad_h):
        a0, w_rec, h_all = ctx.saved_tensors
        alpha, cut = ctx.alpha, ctx.cut
        leak = alpha != 1
        k, n_steps, batch, n = h_all.shape
        grad_h = grad_h.contiguous()
        f_grad = ACTIVATION_GRADS[ctx.activation]
        w_back = w_rec * alpha if leak else w_rec
        grad_a_all = torch.empty_like(h_all)
        gain = torch.empty_like(h_all[:, 0])
        total_h = grad_h[:, -1]
        grad_a = None
        for t in range(n_steps - 1, -1, -1):
            f_grad(h_all[:, t], out=gain)
            grad_a = torch.mul(total_h, gain, out=grad_a_all[:, t])
            if leak and t < n_steps - 1:
                grad_a.add_(grad_a_all[:, t + 1], alpha=1 - alpha)
            if t > 0:
                total_h = grad_h[:, t - 1] if cut[t] else torch.baddbmm(grad_h[:, t - 1], grad_a, w_back)
        h0 = ACTIVATIONS[ctx.activation](a0)
        grad_a0 = grad_a.sum(1) * (1 - alpha) if leak else torch.zeros_like(h0)
        if not cut[0]:
            back = torch.bmm(grad_a, w_back).sum(1)
            grad_a0 = grad_a0 + back * f_grad(h0)
        grad_drive = grad_a_all.mul_(alpha) if leak else grad_a_all
        grad_w_rec = torch.bmm(grad_drive[:, 1:].reshape(k, -1, n).transpose(1, 2),
                               h_all[:, :-1].reshape(k, -1, n))
        # step 0 with h0: an outer product per network, as the single core does it (a batched product this thin
        # takes the CPU's naive kernel, which rounds unlike the BLAS call of the single core)
        first = grad_drive[:, 0].sum(1, keepdim=True)
        for i in range(k):
            grad_w_rec[i].addmm_(first[i].t(), h0[i].unsqueeze(0))
        return grad_drive, grad_a0, grad_w_rec, None, None, None


def batched_recurrence(drive, a0, w_rec, alpha, activation, cut, fused=True):
    """Rates ``(K, T, B, N)`` of ``K`` networks driven by ``drive`` ``(K, T, B, N)`` from ``a0`` ``(K, N)`` through
    ``w_rec`` ``(K, N, N)``; ``cut`` as in :func:`biocredit.model.recurrence`. ``fused=False`` runs a plain autograd
    loop with ``bmm`` (reference for the tests)."""
    cut = tuple(bool(c) for c in cut)
    if fused:
        return _BatchedRecurrence.apply(drive, a0, w_rec, alpha, activation, cut)
    f = ACTIVATIONS[activation]
    k, n_steps, batch, n = drive.shape
    a = a0.unsqueeze(1).expand(k, batch, n)
    h = f(a)
    rates = []
    for t in range(n_steps):
        h_seen = h.detach() if cut[t] else h
        a = (1 - alpha) * a + alpha * (torch.bmm(h_seen, w_rec.transpose(1, 2)) + drive[:, t])
        h = f(a)
        rates.append(h)
    return torch.stack(rates, dim=1)


class BatchedRNN(torch.nn.Module):
    """``K`` :class:`~biocredit.model.RateRNN` networks of one architecture with stacked parameters (each of shape
    ``(K, *single shape)``), built from the given single networks (their fixed masks and signs are kept)."""

    def __init__(self, models: list[RateRNN]) -> None:
        super().__init__()
        if not models:
            raise ValueError("BatchedRNN needs at least one network")
        first = models[0].config
        for m in models[1:]:
            if replace(m.config, conn_seed=first.conn_seed) != first:
                raise ValueError(f"networks of one batched group must share their architecture; got {m.config} "
                                 f"and {first}")
        self.config = first
        self.alpha = models[0].alpha
        for name in PARAM_NAMES:
            ps = [getattr(m, name) for m in models]
            self.register_parameter(name, torch.nn.Parameter(torch.stack([p.detach() for p in ps]).clone(),
                                                             requires_grad=ps[0].requires_grad))
        masks = [m.rec_mask for m in models]
        self.register_buffer("rec_mask", None if masks[0] is None else torch.stack(masks), persistent=False)
        self.register_buffer("dale_signs", models[0].dale_signs, persistent=False)

    @property
    def n_networks(self) -> int:
        return self.w_rec.shape[0]

    def effective_w_rec(self) -> torch.Tensor:
        w = self.w_rec
        if self.dale_signs is not None:
            w = w.abs() * self.dale_signs.to(w.dtype)
        if self.rec_mask is not None:
            w = w * self.rec_mask.to(w.dtype)
        return w

    def forward(self, x: torch.Tensor, rule: LearningRule | None = None, fused: bool = True):
        """Run network ``k`` on ``x[k]`` (``x``: ``(K, B, T, n_in)``); return ``(y, h)`` laid out ``(K, T, B, ·)``
        (``y[k].transpose(0, 1)`` is what network ``k`` alone returns)."""
        rule = rule or BPTT()
        k, batch, n_steps, n_in = x.shape
        x_aug = torch.cat([x.transpose(1, 2), x.new_ones(k, n_steps, batch, 1)], dim=3).view(k, n_steps * batch,
                                                                                             n_in + 1)
        w_aug = torch.cat([self.w_in, self.b.unsqueeze(2)], dim=2).transpose(1, 2).contiguous()
        drive = torch.bmm(x_aug, w_aug).view(k, n_steps, batch, -1)
        cut = [rule.cuts_recurrence(t, n_steps) for t in range(n_steps)]
        h = batched_recurrence(drive, self.a0, self.effective_w_rec(), self.alpha, self.config.activation, cut,
                               fused=fused)
        n = h.shape[-1]
        y = torch.baddbmm(self.b_out.unsqueeze(1), h.reshape(k, n_steps * batch, n), self.w_out.transpose(1, 2))
        return y.view(k, n_steps, batch, -1), h

    def state(self, i: int) -> dict[str, torch.Tensor]:
        """Network ``i``'s parameters as a :class:`~biocredit.model.RateRNN` state dict (on the CPU)."""
        return {name: getattr(self, name)[i].detach().cpu().clone() for name in PARAM_NAMES}


class _Slice:
    """Network ``i`` of a :class:`BatchedRNN`, with the attributes :func:`~biocredit.train.weight_decay_term` reads."""

    def __init__(self, model: BatchedRNN, i: int) -> None:
        self.w_in, self.w_rec, self.w_out = model.w_in[i], model.w_rec[i], model.w_out[i]


class SeedBatch(Networks):
    """A :class:`BatchedRNN` as the networks of :func:`~biocredit.train.training_loop`: one forward pass for all
    seeds, each seed's loss computed by the functions a lone run uses, on its slice laid out as a lone run lays it
    out. A network outside ``which`` runs on a copy of another's batch (its numbers are not read)."""

    def __init__(self, model: BatchedRNN) -> None:
        self.model = model

    def parameters(self):
        return self.model.parameters()

    def _stacked(self, batches: dict, which: list[int]) -> torch.Tensor:
        return torch.stack([batches[i if i in batches else which[0]].x for i in range(self.model.n_networks)])

    def losses(self, task, batches, rule, penalties, weight_decay, which):
        y, h = self.model(self._stacked(batches, which), rule)
        out = {}
        for i in which:
            y_i = y[i].transpose(0, 1)
            task_loss = task.loss(y_i, batches[i])
            activity = mean_square(h[i].transpose(0, 1))
            loss = task_loss + penalties[i] * activity
            if weight_decay:
                loss = loss + weight_decay_term(_Slice(self.model, i), weight_decay)
            out[i] = (task_loss, activity, loss, y_i)
        return out

    def outputs(self, batches, which):
        y = self.model(self._stacked(batches, which), BPTT())[0]
        return {i: y[i].transpose(0, 1) for i in which}

    def flat_grads(self, which):
        return {i: torch.cat([p.grad[i].reshape(-1) for p in self.model.parameters() if p.grad is not None])
                for i in which}

    def state(self, i):
        return self.model.state(i)


def _seed_model_configs(model_config, seeds) -> list[ModelConfig]:
    if isinstance(model_config, ModelConfig):
        return [model_config] * len(seeds)
    configs = list(model_config)
    if len(configs) != len(seeds):
        raise ValueError(f"train_group got {len(configs)} model configs for {len(seeds)} seeds")
    return configs


def train_group(
    task,
    model_config: ModelConfig | list[ModelConfig],
    rule: LearningRule,
    config: TrainConfig,
    seeds: list[int],
    device: str = "auto",
    progress=False,
) -> list[TrainResult]:
    """Train one network per seed in ``seeds`` as one batched model; return their results in seed order, each
    equal (see the module docstring) to ``train(task, model_config, rule, config, seed, device)``.

    ``model_config``: one config for every seed, or one per seed (the workflow sets ``conn_seed`` to the run's
    seed), equal apart from ``conn_seed``. Raises ``ValueError`` for an unsupported rule, task or config
    (:func:`check_groupable`), repeated seeds or mismatched architectures.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("train_group needs at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"train_group got repeated seeds {seeds}")
    check_groupable(task, rule, config)
    configs = _seed_model_configs(model_config, seeds)
    keep_freed_memory()
    dev = resolve_device(device)
    singles = [RateRNN(c, generator=torch.Generator().manual_seed(seed_streams(s)["init"]))
               for c, s in zip(configs, seeds, strict=True)]
    nets = SeedBatch(BatchedRNN(singles).to(dev))
    opt = make_optimizer([p for p in nets.parameters() if p.requires_grad], config)
    eval_sets = [{"test": evaluation_batches(task, s, config.n_test_trials, config.n_eval_trials)["test"].to(dev)}
                 for s in seeds]
    logs = new_run_logs(seeds, config)
    training_loop(nets, opt, task, rule, config, logs, eval_sets, dev, progress=progress)
    return [run_result(lg, rule, task, config, c) for lg, c in zip(logs, configs, strict=True)]
