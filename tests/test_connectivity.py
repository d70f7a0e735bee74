"""Dale's law and sparse connectivity hold through training, for any rule."""

from __future__ import annotations

import pytest
import torch

from biocredit.connectivity import constrain_initial_weights, dale_signs, effective_weights, sparsity_mask


def test_dale_signs_and_balance():
    s = dale_signs(10)
    assert s.tolist() == [1.0] * 8 + [-1.0] * 2
    gen = torch.Generator().manual_seed(0)
    w = constrain_initial_weights(torch.randn(400, 400, generator=gen), dale_signs(400), None)
    eff = effective_weights(w, dale_signs(400))
    assert (eff[:, :320] >= 0).all() and (eff[:, 320:] <= 0).all()
    row_sum = eff.sum(1)  # excitation and inhibition balance on average: E columns / 4, four times as many
    assert abs(float(row_sum.mean())) < 0.1 * float(eff.abs().sum(1).mean())
    with pytest.raises(ValueError, match="frac_exc"):
        dale_signs(10, 1.5)


def test_sparsity_mask_density_and_scaling():
    gen = torch.Generator().manual_seed(1)
    m = sparsity_mask(300, 0.2, gen)
    assert abs(float(m.mean()) - 0.2) < 0.02
    w = constrain_initial_weights(torch.randn(300, 300, generator=gen) / 300**0.5, None, m, density=0.2)
    radius = torch.linalg.eigvals(w).abs().max().item()
    assert radius == pytest.approx(1.0, rel=0.15)  # 1/sqrt(p) scaling keeps the circular-law radius
    with pytest.raises(ValueError, match="density"):
        sparsity_mask(5, 0.0)


def test_constraints_survive_gradient_steps():
    gen = torch.Generator().manual_seed(2)
    signs, mask = dale_signs(20), sparsity_mask(20, 0.5, gen)
    w = torch.nn.Parameter(constrain_initial_weights(torch.randn(20, 20, generator=gen), signs, mask, 0.5))
    opt = torch.optim.SGD([w], lr=0.5)
    for _ in range(20):
        opt.zero_grad()
        eff = effective_weights(w, signs, mask)
        (eff @ torch.randn(20, 5, generator=gen)).pow(2).sum().backward()
        assert (w.grad[mask == 0] == 0).all()
        opt.step()
    eff = effective_weights(w, signs, mask)
    assert (eff[:, signs > 0] >= 0).all() and (eff[:, signs < 0] <= 0).all()
    assert (eff[mask == 0] == 0).all()
