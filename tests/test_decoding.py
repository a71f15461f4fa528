"""The preallocated KV cache (resurface.decoding) gives exactly the default cache's logits."""

import pytest
import torch

from resurface.decoding import preallocated_cache
from resurface.models import load_model


pytestmark = pytest.mark.usefixtures("one_thread")


def _decode(model, cache, prompt, feeds, drop_at, keep, mask=None):
    """Prefill ``prompt`` then feed ``feeds`` one step at a time; drop rows to ``keep`` before step
    ``drop_at``. Returns the logits of every step."""
    kwargs = {"past_key_values": cache} if cache is not None else {}
    out = model(input_ids=prompt, attention_mask=mask, use_cache=True, **kwargs)
    cache, outs = out.past_key_values, [out.logits[:, -1]]
    for step in range(len(feeds)):
        if step == drop_at:
            cache.batch_select_indices(keep)
            feeds = feeds[:, keep]
            mask = mask[keep] if mask is not None else None
        feed = feeds[step]
        if mask is not None:
            mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=1)
        out = model(input_ids=feed[:, None], attention_mask=mask, past_key_values=cache, use_cache=True)
        outs.append(out.logits[:, -1])
    return outs, cache


@pytest.mark.parametrize("alias", ["tiny-llama", "tiny-gemma3", "tiny-qwen2", "tiny-gptneox"])
@pytest.mark.parametrize("padded", [False, True])
def test_preallocated_cache_gives_the_default_cache_logits(alias, padded):
    model, _ = load_model(alias, device="cpu")
    g = torch.Generator().manual_seed(0)
    vocab = model.config.vocab_size
    # past the buffer's capacity (32), and for tiny-gemma3 past its 64-token sliding window
    batch, steps = 4, (70 if alias == "tiny-gemma3" else 40)
    prompt = torch.randint(3, vocab, (batch, 3), generator=g)
    feeds = torch.randint(3, vocab, (steps, batch), generator=g)
    keep = torch.tensor([1, 3])
    mask = None
    if padded:  # left padding, as the greedy evaluation decoder batches prompts of unequal length
        mask = torch.ones(batch, 3, dtype=torch.long)
        mask[0, :2] = 0
        mask[2, :1] = 0
    with torch.inference_mode():
        want, _ = _decode(model, None, prompt, feeds, 20, keep, mask)
        cache = preallocated_cache(model, 32)
        assert cache is not None
        got, cache = _decode(model, cache, prompt, feeds, 20, keep, mask)
    layers = [type(layer).__name__ for layer in cache.layers]
    assert "PreallocatedLayer" in layers
    if alias == "tiny-gemma3":  # sliding-window layers keep transformers' implementation
        assert any(name != "PreallocatedLayer" for name in layers)
    assert cache.get_seq_length() == 3 + steps
    for step, (a, b) in enumerate(zip(want, got)):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-4), f"{alias}: logits differ at step {step}"


def test_preallocated_cache_reorders_and_repeats_rows():
    model, _ = load_model("tiny-llama", device="cpu")
    ids = torch.tensor([[5, 6, 7], [8, 9, 10]])
    with torch.inference_mode():
        plain = model(input_ids=ids, use_cache=True).past_key_values
        mine = preallocated_cache(model, 8)
        model(input_ids=ids, past_key_values=mine, use_cache=True)
        for cache in (plain, mine):
            cache.batch_repeat_interleave(2)
            cache.reorder_cache(torch.tensor([3, 0, 1, 2]))
        for a, b in zip(plain.layers, mine.layers):
            assert torch.equal(a.keys, b.keys) and torch.equal(a.values, b.values)
