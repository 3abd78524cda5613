"""Parts of vibration–text contrastive models (CLIP for bearing signals): prompts, text encoders,
contrastive losses, adapters. Importing this package does not import transformers or peft."""

from faultcli.clip import builder  # noqa: F401  (registers the clip_tuned model)
from faultcli.clip.adapters import ResidualAdapter, add_lora, count_trainable, lora_targets
from faultcli.clip.loss import LogitScale, clip_loss, clip_loss_arange
from faultcli.clip.prompts import (
    CONDITION_KEYS,
    TEMPLATES,
    ClassInfo,
    check_template,
    class_prompts,
    class_text,
    parse_class,
    read_prompt_file,
    structured_prompt,
)
from faultcli.clip.text import (
    POOLINGS,
    LSTMTextEncoder,
    PromptBank,
    TextEncoder,
    TransformerTextEncoder,
    default_text_model,
    is_trainable,
    resolve_text_model,
)

__all__ = [
    "CONDITION_KEYS",
    "POOLINGS",
    "TEMPLATES",
    "ClassInfo",
    "LSTMTextEncoder",
    "LogitScale",
    "PromptBank",
    "ResidualAdapter",
    "TextEncoder",
    "TransformerTextEncoder",
    "add_lora",
    "check_template",
    "class_prompts",
    "class_text",
    "clip_loss",
    "clip_loss_arange",
    "count_trainable",
    "default_text_model",
    "is_trainable",
    "lora_targets",
    "parse_class",
    "read_prompt_file",
    "resolve_text_model",
    "structured_prompt",
]
