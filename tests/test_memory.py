"""The training-memory estimate against the measured peak of real training steps on CPU."""

import json

import pytest
import torch

from resurface.errors import ParameterError
from resurface.models import load_model, load_tokenizer
from resurface.study.memory import fitting_plan, peak_tensor_bytes, training_bytes
from resurface.train import training

pytestmark = pytest.mark.usefixtures("one_thread")
GIB = 1024 ** 3
QWEN_05B = {"model_type": "qwen2", "hidden_size": 896, "num_hidden_layers": 24, "vocab_size": 151936,
            "intermediate_size": 4864, "num_attention_heads": 14, "num_key_value_heads": 2,
            "tie_word_embeddings": True, "max_position_embeddings": 32768}


def test_the_tracker_counts_what_a_function_allocates_and_holds():
    def make():
        keep = torch.zeros(1000, dtype=torch.float32)  # 4,000 bytes held
        tmp = torch.ones(2000, dtype=torch.float64)  # 16,000 bytes, freed
        del tmp
        return keep

    peak, kept = peak_tensor_bytes(make)
    assert peak == 4000 + 16000 and kept.numel() == 1000


@pytest.mark.parametrize("alias,chunk", [("tiny-llama", None), ("tiny-llama", 16), ("tiny-gptneox", None)])
def test_the_estimate_is_within_25_percent_of_a_measured_training_peak(alias, chunk):
    tok = load_tokenizer(alias)
    model = load_model(alias, device="cpu", dtype="float32")[0]
    cfg = json.loads(model.config.to_json_string())
    n = sum(p.numel() for p in model.parameters())
    torch.manual_seed(0)
    blocks = torch.randint(5, model.config.vocab_size, (8, 64))
    peak, _ = peak_tensor_bytes(lambda: training.train(
        model, tok, blocks, epochs=1, lr=1e-4, batch_size=4, effective_batch=4, progress=False, device="cpu",
        mixed_precision="no", loss_chunk=chunk))
    measured = peak + 4 * n  # the weights existed before
    est = sum(training_bytes(cfg, block_size=64, micro_batch=4, compute="fp32", loss_chunk=chunk, params=n).values())
    assert 0.75 <= est / measured <= 1.25, (est, measured)


def test_the_paper_student_counts_its_logits_and_the_named_fixes_fit():
    full = training_bytes(QWEN_05B, block_size=2048, micro_batch=8, compute="bf16")
    chunked = training_bytes(QWEN_05B, block_size=2048, micro_batch=8, compute="bf16", loss_chunk=128)
    assert full["logits"] > 30 * GIB  # 8 x 2048 x 151,936 at 14 bytes each
    assert sum(full.values()) - sum(chunked.values()) > 25 * GIB
    assert sum(full.values()) > 40 * GIB > sum(chunked.values())
    what, est = fitting_plan(QWEN_05B, 40 * GIB, block_size=2048, micro_batch=8)
    assert "loss_chunk=128" in what and est == chunked
    what, est = fitting_plan(QWEN_05B, 32 * GIB, block_size=2048, micro_batch=8, loss_chunk=128)
    assert what.startswith("batch_size: 4") and sum(est.values()) <= 32 * GIB
    # a 7B student: state alone outgrows one 80 GB GPU; the sharded engine is the fix
    big = {**QWEN_05B, "hidden_size": 3584, "num_hidden_layers": 28, "intermediate_size": 18944,
           "num_attention_heads": 28, "num_key_value_heads": 4, "tie_word_embeddings": False}
    what, est = fitting_plan(big, 80 * GIB, block_size=2048, micro_batch=8)
    assert "fsdp" in what and sum(est.values()) <= 80 * GIB
    sharded = training_bytes(big, block_size=2048, micro_batch=1, loss_chunk=128, engine="fsdp", world=4)
    assert sharded["AdamW moments (fp32)"] * 4 == training_bytes(big, block_size=2048, micro_batch=1)["AdamW moments (fp32)"]
    with pytest.raises(ParameterError, match="engine"):
        training_bytes(big, block_size=2048, micro_batch=1, engine="zero9")
