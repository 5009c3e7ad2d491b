"""Learning-rate schedules: each equals its formula, composes, and matches PyTorch's closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon.optim import SGD
from axon.optim.schedules import CosineDecay, ExponentialDecay, Schedule, StepDecay, Warmup

lrs = st.floats(1e-5, 10.0)
epochs = st.integers(0, 500)
counts = st.integers(1, 100)
factors = st.floats(0.0, 1.0)


@settings(max_examples=60, deadline=None)
@given(lr=lrs, step=counts, gamma=factors, e=epochs)
def test_step_decay_formula(lr, step, gamma, e):
    assert StepDecay(lr, step, gamma)(e) == pytest.approx(lr * gamma ** (e // step), rel=1e-12, abs=0)


@settings(max_examples=60, deadline=None)
@given(lr=lrs, gamma=st.floats(0.5, 1.0), every=counts, e=epochs)
def test_exponential_decay_formula(lr, gamma, every, e):
    assert ExponentialDecay(lr, gamma, every)(e) == pytest.approx(lr * gamma ** (e / every), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(lr=lrs, T=counts, floor=st.floats(0.0, 1e-3), e=epochs)
def test_cosine_decay_formula(lr, T, floor, e):
    got = CosineDecay(lr, T, floor)(e)
    want = floor + (lr - floor) * (1 + math.cos(math.pi * min(e, T) / T)) / 2
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert min(lr, floor) - 1e-15 <= got <= max(lr, floor) + 1e-15


@settings(max_examples=60, deadline=None)
@given(lr=lrs, T=counts, W=st.integers(1, 20), e=epochs)
def test_warmup_of_cosine_formula(lr, T, W, e):
    schedule = Warmup(CosineDecay(lr, T), warmup_epochs=W)
    want = lr * (e + 1) / (W + 1) if e < W else CosineDecay(lr, T)(e - W)
    assert schedule(e) == pytest.approx(want, rel=1e-12, abs=1e-15)


@settings(max_examples=40, deadline=None)
@given(lr=lrs, W=st.integers(1, 20), s=st.floats(0.01, 1.0), e=st.integers(0, 40))
def test_warmup_start_factor_is_a_line_to_the_peak(lr, W, s, e):
    schedule = Warmup(lr, warmup_epochs=W, start_factor=s)
    want = lr * (s + (1 - s) * e / W) if e < W else lr
    assert schedule(e) == pytest.approx(want, rel=1e-12)
    assert schedule(0) == pytest.approx(s * lr)


def test_warmup_rises_to_the_peak_then_follows_the_wrapped_schedule():
    schedule = Warmup(CosineDecay(0.1, decay_epochs=45), warmup_epochs=5)
    values = [schedule(e) for e in range(60)]
    assert all(a < b for a, b in zip(values[:5], values[1:6]))
    assert values[5] == pytest.approx(0.1)
    assert values[50] == pytest.approx(0.0, abs=1e-15) and values[59] == values[50]
    assert all(v > 0 for v in values[:50])
    assert schedule.initial_lr == pytest.approx(0.1)


def test_schedules_wrap_plain_functions_and_nest():
    schedule = Warmup(lambda e: 0.2 * 0.5 ** e, warmup_epochs=2)
    assert [schedule(e) for e in range(5)] == pytest.approx([0.2 / 3, 0.4 / 3, 0.2, 0.1, 0.05])
    twice = Warmup(Warmup(StepDecay(1.0, 2), 2), 1)
    assert twice(1) == pytest.approx(1 / 3)


def test_schedule_drives_an_optimizer():
    # What the LearningRateScheduler callback does: optimizer.lr = schedule(epoch) at each epoch start.
    opt = SGD(lr=0.1)
    schedule = StepDecay(0.1, step_size=2, gamma=0.5)
    seen = []
    for epoch in range(6):
        opt.lr = schedule(epoch)
        seen.append(opt.lr)
    assert seen == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert all(type(v) is float for v in seen)


@pytest.mark.parametrize(("ours", "theirs"), [
    (lambda: StepDecay(0.1, 3, 0.5), ("StepLR", {"step_size": 3, "gamma": 0.5})),
    (lambda: ExponentialDecay(0.1, 0.9), ("ExponentialLR", {"gamma": 0.9})),
    (lambda: CosineDecay(0.1, 10, 0.001), ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001})),
])
def test_schedules_equal_pytorch_schedulers(ours, theirs):
    torch = pytest.importorskip("torch")
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    name, kw = theirs
    sched = getattr(torch.optim.lr_scheduler, name)(opt, **kw)
    schedule = ours()
    for epoch in range(11):
        assert schedule(epoch) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9)
        opt.step()
        sched.step()


@pytest.mark.parametrize("bad", [-1, 1.5, "3", None, True])
def test_epoch_must_be_a_natural_number(bad):
    with pytest.raises((TypeError, ValueError), match="epoch"):  # TypeError for what is not an int
        CosineDecay(0.1, 10)(bad)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: StepDecay(0.1, 0), "step_size"), (lambda: StepDecay(-0.1, 2), "initial_lr"),
    (lambda: ExponentialDecay(0.1, -0.5), "gamma"), (lambda: CosineDecay(0.1, 2.5), "decay_epochs"),
    (lambda: Warmup(0.1, 0), "warmup_epochs"), (lambda: Warmup(0.1, 3, start_factor=0), "start_factor"),
    (lambda: Warmup("fast", 3), "learning rate"),
])
def test_bad_arguments_are_explained(make, match):
    with pytest.raises((TypeError, ValueError), match=match):  # TypeError for decay_epochs=2.5
        make()


def test_values_are_python_floats_and_repr_names_the_parts():
    schedule = Warmup(CosineDecay(0.1, 10), 2)
    assert type(schedule(np.int64(3))) is float
    assert isinstance(schedule, Schedule)
    assert "CosineDecay(initial_lr=0.1" in repr(schedule)
