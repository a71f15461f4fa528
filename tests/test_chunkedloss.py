"""The chunked loss equals the model's own loss and gradients, and it is on only where it matters."""

import pytest
import torch

from resurface.errors import ParameterError
from resurface.models import load_model
from resurface.train import chunkedloss, training
from resurface.train.chunkedloss import ChunkedLossLM, resolve_loss_chunk

pytestmark = pytest.mark.usefixtures("one_thread")


def _grads(model) -> dict[str, torch.Tensor]:
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("alias,chunk", [("tiny-llama", 1), ("tiny-llama", 5), ("tiny-llama", 64),
                                         ("tiny-gemma3", 5), ("tiny-gptneox", 5)])
def test_chunked_loss_and_gradients_equal_the_models_own(alias, chunk):
    model = load_model(alias, device="cpu")[0].train()
    torch.manual_seed(0)
    x = torch.randint(5, model.config.vocab_size, (3, 17))
    labels = x.clone()
    labels[1, 9:] = chunkedloss.IGNORE  # a padded row: left out of both losses
    ref = model(input_ids=x, labels=labels, use_cache=False).loss
    ref.backward()
    want = _grads(model)
    model.zero_grad(set_to_none=True)
    got = ChunkedLossLM(model, chunk)(input_ids=x, labels=labels).loss
    got.backward()
    assert torch.allclose(got, ref, rtol=1e-5, atol=1e-6)
    grads = _grads(model)
    assert grads.keys() == want.keys()
    for name, g in grads.items():
        assert torch.allclose(g, want[name], rtol=1e-4, atol=1e-6), name


def test_training_with_the_chunked_loss_repeats_the_plain_loss_curve():
    from resurface.models import load_tokenizer
    from resurface.train import packing

    tok = load_tokenizer("tiny-llama")
    texts = [f"The fox number {i} jumps over the lazy dog by tree {i * 7}." for i in range(13)]
    blocks = packing.pack_blocks(texts, tok, 16)
    hp = dict(epochs=1, lr=3e-3, warmup_ratio=0.1, batch_size=4, effective_batch=8, seed=0, progress=False)
    plain = training.train(load_model("tiny-llama", device="cpu")[0], tok, blocks, **hp).losses
    chunked = training.train(load_model("tiny-llama", device="cpu")[0], tok, blocks, loss_chunk=4, **hp).losses
    assert len(plain) == len(chunked) > 1
    assert torch.allclose(torch.tensor(plain["loss"].values), torch.tensor(chunked["loss"].values), rtol=1e-5)


def test_auto_turns_the_chunked_loss_on_only_for_large_logits():
    assert resolve_loss_chunk("auto", 151_936, 2048, 8) == chunkedloss.DEFAULT_CHUNK  # paper: Qwen2.5-0.5B
    assert resolve_loss_chunk("auto", 50_304, 2048, 8) == chunkedloss.DEFAULT_CHUNK  # paper: Pythia-1.4B
    assert resolve_loss_chunk("auto", 49_152, 64, 4) is None  # course: SmolLM2, keys unchanged
    assert resolve_loss_chunk(None, 151_936, 2048, 8) is None and resolve_loss_chunk(7, 10, 2, 1) == 7
    with pytest.raises(ParameterError, match="loss_chunk"):
        resolve_loss_chunk(0, 10, 2, 1)
    with pytest.raises(ParameterError, match="loss_chunk"):
        ChunkedLossLM(load_model("tiny-llama", device="cpu")[0], 0)
