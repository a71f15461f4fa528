"""The sparse lookup gradient of a tied embedding: when it is used, and that training is unchanged by it."""

import pytest
import torch

from resurface.train import packing, tiedgrad, training
from resurface.models import load_model, load_tokenizer

pytestmark = pytest.mark.usefixtures("one_thread")

TEXTS = [f"Row {i}: a tied embedding is read at the input and written at the output, {i * 3} times." for i in range(9)]


def fresh(alias: str = "tiny-llama"):
    return load_model(alias, device="cpu")[0]


def test_tied_embedding_is_found_only_when_the_head_shares_its_weight():
    tied = fresh("tiny-gemma3")
    assert tiedgrad.tied_input_embedding(tied) is tied.get_input_embeddings()
    assert tiedgrad.tied_input_embedding(fresh("tiny-gptneox")) is None  # untied, as Pythia
    assert tiedgrad.tied_input_embedding(torch.nn.Linear(2, 2)) is None


def test_sparse_is_used_only_on_one_cpu_process_for_a_large_tied_matrix():
    m = fresh("tiny-llama")
    w = m.get_input_embeddings().weight
    size = w.numel() * w.element_size()
    assert tiedgrad.sparse_pays(m, "cpu", 1, threshold=size)
    assert not tiedgrad.sparse_pays(m, "cpu", 1, threshold=size + 1)
    assert not tiedgrad.sparse_pays(m, "cuda", 1, threshold=0)
    assert not tiedgrad.sparse_pays(m, "cpu", 2, threshold=0)
    assert not tiedgrad.sparse_pays(fresh("tiny-gptneox"), "cpu", 1, threshold=0)
    assert not tiedgrad.sparse_pays(m, "cpu", 1)  # a tiny model is far below the kernels' mmap threshold


def test_the_switch_is_restored_even_after_an_error():
    m = fresh("tiny-gemma3")
    emb = m.get_input_embeddings()
    with pytest.raises(RuntimeError), tiedgrad.sparse_input_grad(m, True) as on:
        assert on and emb.sparse
        raise RuntimeError("boom")
    assert emb.sparse is False
    with tiedgrad.sparse_input_grad(m, False) as on:
        assert not on and emb.sparse is False


@pytest.mark.parametrize("alias", ["tiny-llama", "tiny-gemma3"])
def test_the_gradient_is_dense_and_equal_with_the_sparse_lookup(alias):
    x = torch.tensor([[5, 9, 11, 9, 3, 7], [2, 2, 8, 1, 5, 9]])
    grads = []
    for enabled in (False, True):
        m = fresh(alias)
        with tiedgrad.sparse_input_grad(m, enabled) as on:
            assert on is enabled
            m(input_ids=x, labels=x, use_cache=False).loss.backward()
        g = m.get_input_embeddings().weight.grad
        assert g is not None and g.layout == torch.strided
        grads.append(g)
    assert grads[0].abs().sum() > 0
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-7)


def test_training_with_the_sparse_lookup_matches_dense_training(monkeypatch):
    tok = load_tokenizer("tiny-llama")
    blocks = packing.pack_blocks(TEXTS, tok, 16)
    hp = dict(epochs=2, lr=3e-3, warmup_ratio=0.1, batch_size=2, effective_batch=4, seed=0, progress=False)
    dense_model = fresh()
    dense = training.train(dense_model, tok, blocks, **hp)
    monkeypatch.setattr(tiedgrad.allocator, "MMAP_THRESHOLD", 0)  # every tied matrix counts as large
    sparse_model = fresh()
    sparse = training.train(sparse_model, tok, blocks, **hp)
    assert dense.summary["sparse_tied_embedding_grad"] is False
    assert sparse.summary["sparse_tied_embedding_grad"] is True
    assert sparse_model.get_input_embeddings().sparse is False  # restored for evaluation and saving
    torch.testing.assert_close(torch.tensor(sparse.losses["loss"].values), torch.tensor(dense.losses["loss"].values),
                               rtol=1e-4, atol=1e-5)
    for (name, a), b in zip(dense_model.named_parameters(), sparse_model.parameters()):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5, msg=name)
