"""Tiny text models built here and saved to a temporary folder: a random BERT, a decoder-only GPT-2 whose
tokenizer has no pad token, and one whose tokenizer has no special token at all. Nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytest.importorskip("transformers")

WORDS = "a an the bearing ball inner outer race fault healthy normal with no rolling element of at in".split()


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=5 + len(WORDS),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(folder)
    return folder


def _word_level(folder: Path, specials: dict[str, str]) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2Model, PreTrainedTokenizerFast

    vocab = {word: i for i, word in enumerate(["<unk>", "</s>", *WORDS])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, **specials).save_pretrained(folder)
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(vocab), n_embd=32, n_layer=2, n_head=2, n_positions=64, bos_token_id=1, eos_token_id=1
    )
    GPT2Model(config).save_pretrained(folder)


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory) -> Path:
    """A decoder model whose tokenizer knows end-of-sequence and unknown tokens but no pad token."""
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    _word_level(folder, {"eos_token": "</s>", "unk_token": "<unk>"})
    return folder


@pytest.fixture(scope="session")
def tiny_gpt2_no_specials(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-gpt2-bare")
    _word_level(folder, {})
    return folder
