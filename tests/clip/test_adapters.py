"""The residual adapter starts as the identity and learns; LoRA on a tiny BERT trains under 5 % of the
weights and leaves the base unchanged; target layers are found per model family."""

from __future__ import annotations

import pytest
import torch

from faultcli.clip import (
    PromptBank,
    ResidualAdapter,
    TransformerTextEncoder,
    add_lora,
    clip_loss,
    count_trainable,
    lora_targets,
)
from faultcli.errors import ConfigError


def test_residual_adapter_starts_as_identity_and_learns():
    torch.manual_seed(0)
    adapter = ResidualAdapter(16, bottleneck=4, ratio=0.2)
    x = torch.randn(8, 16)
    torch.testing.assert_close(adapter(x), x)
    optimiser = torch.optim.SGD(adapter.parameters(), lr=0.5)
    (adapter(x) - 2 * x).pow(2).mean().backward()
    optimiser.step()
    assert not torch.allclose(adapter(x), x)
    assert count_trainable(adapter) == (16 * 4 + 4 + 4 * 16 + 16, 16 * 4 + 4 + 4 * 16 + 16)


@pytest.mark.parametrize("kwargs", [{"bottleneck": 0}, {"ratio": 0.0}, {"ratio": 1.5}])
def test_residual_adapter_bad_arguments(kwargs):
    with pytest.raises(ConfigError):
        ResidualAdapter(16, **kwargs)


def test_lora_on_tiny_bert_trains_few_weights_and_leaves_the_base_unchanged(tiny_bert):
    torch.manual_seed(0)
    encoder = TransformerTextEncoder(tiny_bert)
    assert lora_targets(encoder.model) == ["query", "value"]
    encoder.model = add_lora(encoder.model, r=2, alpha=4, dropout=0.0)
    trainable, total = count_trainable(encoder)
    assert 0 < trainable < 0.05 * total  # 512 of about 21 k
    assert encoder.trainable
    base = {n: p.detach().clone() for n, p in encoder.model.named_parameters() if not p.requires_grad}
    lora = {n: p.detach().clone() for n, p in encoder.model.named_parameters() if p.requires_grad}
    assert all("lora_" in n for n in lora) and len(base) > len(lora)

    bank = PromptBank({"ball": ["a ball fault"], "inner": ["an inner race fault"], "normal": ["healthy"]}, encoder)
    encoder.train()
    assert encoder.model.training  # a trainable encoder follows train() / eval()
    signals = torch.randn(6, 32)
    optimiser = torch.optim.SGD([p for p in encoder.parameters() if p.requires_grad], lr=1.0)
    loss = clip_loss(signals, bank.embeddings(), torch.tensor([0, 0, 1, 1, 2, 2]), 10.0)
    assert loss.requires_grad
    loss.backward()
    optimiser.step()
    for name, value in encoder.model.named_parameters():
        if name in base:
            torch.testing.assert_close(value, base[name], rtol=0, atol=0)
    assert any(not torch.equal(p, lora[n]) for n, p in encoder.model.named_parameters() if n in lora)


def test_lora_targets_per_family(tiny_gpt2):
    from transformers import AutoModel, Qwen2Config, Qwen2Model

    qwen = Qwen2Model(
        Qwen2Config(
            vocab_size=32, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
            num_key_value_heads=1,
        )
    )  # fmt: skip
    assert lora_targets(qwen) == ["q_proj", "v_proj"]
    gpt2 = AutoModel.from_pretrained(tiny_gpt2, local_files_only=True)
    assert lora_targets(gpt2) == ["c_attn"]
    trainable, total = count_trainable(add_lora(qwen, r=2))
    assert 0 < trainable < 0.05 * total


def test_unknown_family_or_bad_targets_are_config_errors(tiny_bert):
    with pytest.raises(ConfigError, match="target_modules") as err:
        lora_targets(torch.nn.Sequential(torch.nn.Linear(4, 4)))
    assert "\n" not in str(err.value)
    encoder = TransformerTextEncoder(tiny_bert)
    with pytest.raises(ConfigError, match="do not fit") as err:
        add_lora(encoder.model, target_modules=["no_such_layer"])
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="rank"):
        add_lora(encoder.model, r=0)
