"""The tuned vibration–text model on a tiny random BERT: LoRA on the text encoder (what trains, that it
learns, what a checkpoint holds and restores) and the calibrated-stacking shift of the seen classes."""

from __future__ import annotations

import pytest
import torch

from faultcli.clip.loss import class_aware_infonce
from faultcli.errors import CheckpointError
from faultcli.models import create_model

pytest.importorskip("peft")

PROMPTS = [["A ball bearing", "ball fault"], ["A inner bearing"], ["A outer bearing", "outer race fault"]]


def tuned_kwargs(tiny_bert) -> dict:
    """The builder arguments of a tiny text-LoRA model over the tiny BERT."""
    return {
        "num_classes": 3,
        "encoder": "wdcnn",
        "encoder_kwargs": {"window": 1024},
        "text": "lora",
        "text_dim": 32,
        "prompts": PROMPTS,
        "text_model": str(tiny_bert),
        "embed_dim": 16,
        "lora_r": 4,
    }


def tuned(tiny_bert, **kwargs):
    torch.manual_seed(0)
    args = {**tuned_kwargs(tiny_bert), "lora_dropout": 0.0, **kwargs}
    return create_model("clip_tuned", **args)


def train_steps(model, lr: float, steps: int = 3) -> None:
    """A few optimiser steps of the class-aware loss on random windows (the trainable weights move)."""
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    for _ in range(steps):
        loss = class_aware_infonce(model(torch.randn(6, 1, 1024)), torch.arange(6) % 3)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def lora_count(r: int = 4, width: int = 32, layers: int = 2) -> int:
    return layers * 2 * (r * width + width * r)  # query and value: A (r × in) and B (out × r)


def test_in_adapter_mode_only_the_adapter_and_the_lora_matrices_train(tiny_bert):
    model = tuned(tiny_bert, adapter_bottleneck=4, train_adapters_only=True)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("adapter.") or "lora_" in n for n in trainable)
    text_side = {n for n in trainable if n.startswith("texts.")}
    assert text_side and all("lora_" in n for n in text_side)
    count = sum(p.numel() for n, p in model.named_parameters() if n in text_side)
    assert count == lora_count()
    adapter = sum(p.numel() for p in model.adapter.parameters())
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == adapter + lora_count()


def test_lora_learns_the_class_texts_and_leaves_the_base_weights(tiny_bert):
    model = tuned(tiny_bert, train_adapters_only=True)  # no signal adapter: the text side alone trains
    before = {n: p.detach().clone() for n, p in model.texts.named_parameters()}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    x, y = torch.randn(24, 1, 1024), torch.arange(24) % 3
    model.train()
    losses = []
    for _ in range(15):
        loss = class_aware_infonce(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    after = dict(model.texts.named_parameters())
    assert all(not torch.equal(before[n], after[n]) for n in before if "lora_B" in n)
    assert all(torch.equal(before[n], after[n]) for n in before if "lora_" not in n)


def test_eval_reads_the_class_texts_of_the_last_step_without_encoding_again(tiny_bert, monkeypatch):
    model = tuned(tiny_bert)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    class_aware_infonce(model(torch.randn(6, 1, 1024)), torch.arange(6) % 3).backward()
    optimizer.step()
    model.eval()
    with torch.no_grad():
        first = model(torch.randn(2, 1, 1024))
        fresh = model.texts.encode_classes()
    assert torch.allclose(model.texts.embeddings, fresh, atol=1e-6)  # encoded after the step, not before
    calls = []
    monkeypatch.setattr(model.texts.encoder, "encode", lambda texts: calls.append(texts))
    with torch.no_grad():
        model(torch.randn(2, 1, 1024))
    assert not calls and first.shape == (2, 3)


def test_a_checkpoint_holds_the_lora_weights_not_the_base_and_restores_the_same_logits(tiny_bert, tmp_path):
    model = tuned(tiny_bert, seen=[0, 1])
    train_steps(model, lr=1e-2)
    model.set_gamma(0.7)
    model.eval()
    state = model.state_dict()
    texts = [k for k in state if k.startswith("texts.encoder.")]
    assert texts and all("lora_" in k for k in texts)
    torch.save(state, tmp_path / "m.pt")
    loaded = tuned(tiny_bert, seen=[0, 1])
    loaded.load_state_dict(torch.load(tmp_path / "m.pt", weights_only=True))
    loaded.eval()
    x = torch.randn(5, 1, 1024)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
        # the shift is γ on the seen classes only
        raw = model.logit_scale() * model.signal_embedding(model.forward_features(x)) @ model.text_embedding().T
        shift = model.logit_scale() * torch.tensor([0.7, 0.7, 0.0])  # γ in cosine units, before the scale
        assert torch.allclose(model(x), raw - shift, atol=1e-5)


def test_a_checkpoint_refuses_another_base_model(tiny_bert):
    model = tuned(tiny_bert)
    state = model.state_dict()
    state["texts.base_check"] = state["texts.base_check"] * 1.01
    with pytest.raises(CheckpointError, match="other weights"):
        tuned(tiny_bert).load_state_dict(state)


def test_new_descriptions_are_encoded_by_the_tuned_encoder(tiny_bert):
    from faultcli.clip.text import PromptBank, TransformerTextEncoder
    from faultcli.services.clip import lora_embeddings

    model = tuned(tiny_bert)
    train_steps(model, lr=5e-2)
    model.eval()
    kwargs = tuned_kwargs(tiny_bert)
    state = {"model_name": "clip_tuned", "model": model.state_dict()}
    same = lora_embeddings(state, kwargs)
    assert torch.allclose(same, model.texts.embeddings, atol=1e-5)  # the trained prompts: the trained rows
    new = {"ball": ["ball fault"], "inner": ["inner race fault"]}
    tuned_rows = lora_embeddings(state, {**kwargs, "num_classes": 2, "prompts": list(new.values())})
    base_rows = PromptBank(new, TransformerTextEncoder(tiny_bert)).embeddings()
    assert tuned_rows.shape == (2, 32) and not torch.allclose(tuned_rows, base_rows, atol=1e-4)
