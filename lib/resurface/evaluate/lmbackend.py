"""lm-eval's Hugging Face backend with two cheaper computations of the same numbers.

lm-eval drives everything (tasks, prompts, batching of requests, filters, metrics); :class:`ResurfaceHFLM`
overrides only how two kinds of request are computed by the model:

**Log-likelihoods, one forward pass per context.** A multiple-choice item (ARC, MMLU, HellaSwag and
their course stand-ins) asks for the log-likelihood of every choice after the same context. Stock
``HFLM`` runs context + choice once per choice, so a 4-choice item with a 25-shot context costs four
passes over that context, and it projects every position onto the vocabulary. Here requests are
grouped by context; a batch of contexts (left-padded, position ids counted over real tokens) runs
once, keeping the KV cache and the last position's logits; the cache rows are repeated per
continuation and the continuations (minus their last token) run on top, so only continuation
positions reach the vocabulary projection (:func:`score_shared_prefix`). Batches gather contexts
of similar length with continuations of similar length (:func:`pack_groups`), so little of what is
computed is padding.

**Greedy generation that drops finished rows.** ``model.generate`` keeps computing every row of a
batch until the last one meets a stop sequence. :func:`greedy_generate` removes rows from the batch
(and from the KV cache) once an eighth of them have stopped, and stops a row as soon as its decoded
text holds a stop sequence or it emits an end-of-sequence id. lm-eval cuts the text at the first stop
sequence either way, so the answers are the same. Sampling (``do_sample``), non-causal models and
generation configs with active logits processors (repetition penalty and the like) use stock code.

Both are tested against stock ``HFLM`` (same log-likelihoods to 1e-4, same greedy flags, same
generated text and metrics). Requests that lm-eval truncates (longer than the model's context) also
take the stock path.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

from lm_eval.models.huggingface import HFLM

from resurface.decoding import drop_stopped, forward_last, preallocated_cache

Request = tuple[tuple[str, str] | None, list[int], list[int]]

DEFAULT_ROWS = 32  # continuations per forward pass when the batch size is "auto"


def score_shared_prefix(model, contexts: Sequence[Sequence[int]], continuations: Sequence[Sequence[Sequence[int]]],
                        pad_id: int = 0, softmax_dtype=None) -> list[list[tuple[float, bool]]]:
    """Log-likelihood and greedy flag of every continuation of every context, one prefill per context.

    ``continuations[g]`` lists the continuations of ``contexts[g]``; the result has the same shape.
    Each value is ``(sum of log p(token), all tokens greedy)`` as lm-eval defines them.
    """
    import torch

    dev = model.device
    sm_dtype = softmax_dtype or torch.float32
    G, L = len(contexts), max(len(c) for c in contexts)
    ids = torch.full((G, L), pad_id, dtype=torch.long, device=dev)
    mask = torch.zeros((G, L), dtype=torch.long, device=dev)
    for g, c in enumerate(contexts):
        ids[g, L - len(c):] = torch.tensor(list(c), dtype=torch.long)
        mask[g, L - len(c):] = 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    out = forward_last(model, input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True)
    first = torch.log_softmax(out.logits[:, -1, :].to(sm_dtype), dim=-1)  # predicts each continuation's 1st token

    rows = [(g, list(k)) for g, ks in enumerate(continuations) for k in ks]
    tail = max(len(k) for _, k in rows) - 1
    rest = None
    if tail > 0:
        src = torch.tensor([g for g, _ in rows], dtype=torch.long, device=dev)
        cache = out.past_key_values
        cache.batch_select_indices(src)
        cids = torch.full((len(rows), tail), pad_id, dtype=torch.long, device=dev)
        cmask = torch.zeros((len(rows), tail), dtype=torch.long, device=dev)
        for r, (_, k) in enumerate(rows):
            if len(k) > 1:
                cids[r, :len(k) - 1] = torch.tensor(k[:-1], dtype=torch.long)
                cmask[r, :len(k) - 1] = 1
        cpos = pos[src, -1:] + 1 + torch.arange(tail, device=dev)[None, :]
        out2 = model(input_ids=cids, attention_mask=torch.cat([mask[src], cmask], dim=1),
                     position_ids=cpos, past_key_values=cache, use_cache=True)
        rest = out2.logits

    results: list[list[tuple[float, bool]]] = [[] for _ in contexts]
    for r, (g, k) in enumerate(rows):
        lp = first[g][None, :]
        if len(k) > 1:
            lp = torch.cat([lp, torch.log_softmax(rest[r, :len(k) - 1].to(sm_dtype), dim=-1)], dim=0)
        target = torch.tensor(k, dtype=torch.long, device=dev)
        logp = float(lp.gather(1, target[:, None]).sum())
        greedy = bool((lp.argmax(dim=-1) == target).all())
        results[g].append((logp, greedy))
    return results


PAD_SLACK = 1.25  # a batch may compute at most this many positions per real token (padding included)


def padded_positions(shapes: Sequence[tuple[int, Sequence[int]]]) -> tuple[int, int]:
    """Positions :func:`score_shared_prefix` computes for one batch, and how many of them are real tokens.

    ``shapes`` holds ``(context length, [continuation lengths])`` per context: contexts are padded to
    the longest, continuations (minus their last token, which the prefill's last position predicts)
    to the longest.
    """
    L = max(c for c, _ in shapes)
    conts = [k for _, ks in shapes for k in ks]
    tail = max(conts) - 1
    padded = len(shapes) * L + len(conts) * tail
    real = sum(c for c, _ in shapes) + sum(k - 1 for k in conts)
    return padded, real


def pack_groups(shapes: Sequence[tuple[int, Sequence[int]]], cap: int,
                slack: float = PAD_SLACK) -> list[list[int]]:
    """Cut context groups into batches of at most ``cap`` continuations that pad little.

    Groups are taken longest continuation first, then longest context (the costliest batch comes
    first, so a memory problem shows at once); a batch closes when the next group would exceed ``cap``
    rows or make the batch compute more than ``slack`` positions per real token. Padding is computed
    and discarded, so on a CPU, where every position costs the same, this is the time saved; a group
    larger than ``cap`` still forms its own batch. Returns group indices per batch.
    """
    order = sorted(range(len(shapes)), key=lambda g: (-max(shapes[g][1]), -shapes[g][0]))
    batches: list[list[int]] = []
    for g in order:
        cur = batches[-1] if batches else None
        if cur is not None:
            rows = sum(len(shapes[i][1]) for i in cur) + len(shapes[g][1])
            padded, real = padded_positions([shapes[i] for i in cur + [g]])
            if rows <= cap and padded <= slack * max(real, 1):
                cur.append(g)
                continue
        batches.append([g])
    return batches


# generation-config fields that make model.generate do more than argmax + EOS for greedy decoding
_PROCESSOR_FIELDS = {"repetition_penalty": (None, 1.0), "no_repeat_ngram_size": (None, 0),
                     "encoder_no_repeat_ngram_size": (None, 0), "bad_words_ids": (None,),
                     "suppress_tokens": (None,), "begin_suppress_tokens": (None,), "forced_bos_token_id": (None,),
                     "forced_eos_token_id": (None,), "min_length": (None, 0), "min_new_tokens": (None, 0),
                     "sequence_bias": (None,), "exponential_decay_length_penalty": (None,),
                     "renormalize_logits": (None, False), "force_words_ids": (None,), "constraints": (None,)}


def plain_greedy(generation_config, kwargs: dict) -> bool:
    """True when ``model.generate(**kwargs)`` under ``generation_config`` is plain greedy decoding
    (argmax, stop at EOS), which :func:`greedy_generate` reproduces."""
    if kwargs.get("do_sample") or kwargs.get("num_beams", 1) != 1:
        return False
    if set(kwargs) - {"do_sample", "temperature", "top_k", "top_p", "attention_mask"}:
        return False
    if generation_config is None:
        return True
    return all(getattr(generation_config, k, None) in ok for k, ok in _PROCESSOR_FIELDS.items()) \
        and getattr(generation_config, "num_beams", 1) in (None, 1)


def greedy_generate(model, tokenizer, input_ids, attention_mask, max_new_tokens: int, stop: Sequence[str],
                    eos_ids: Sequence[int], pad_id: int):
    """Greedy continuations of a left-padded batch; rows stop at an EOS id or once their decoded text
    holds a ``stop`` string, and leave the batch (and the KV cache) once an eighth have stopped.

    Returns ``[batch, prompt + longest continuation]`` token ids like ``model.generate``: the prompt,
    then each row's tokens, then ``pad_id``.
    """
    import torch

    dev = input_ids.device
    B, L = input_ids.shape
    eos = {int(i) for i in eos_ids}
    pos = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    out = forward_last(model, input_ids=input_ids, attention_mask=attention_mask, position_ids=pos, use_cache=True,
                       past_key_values=preallocated_cache(model, L + max_new_tokens))
    cache, logits = out.past_key_values, out.logits[:, -1, :]
    mask, last = attention_mask, pos[:, -1:]
    gen: list[list[int]] = [[] for _ in range(B)]
    slots: list[int | None] = list(range(B))  # cache slot -> row; None once the row has stopped
    for step in range(max_new_tokens):
        nxt = logits.argmax(dim=-1).tolist()
        for slot, row in enumerate(slots):
            if row is None:
                continue
            gen[row].append(nxt[slot])
            if nxt[slot] in eos or any(s in tokenizer.decode(gen[row], skip_special_tokens=False) for s in stop):
                slots[slot] = None
        live = [i for i, r in enumerate(slots) if r is not None]
        if not live or step == max_new_tokens - 1:
            break
        feed = [nxt[i] if slots[i] is not None else pad_id for i in range(len(slots))]
        slots, feed, (mask, last) = drop_stopped(cache, slots, feed, dev, (mask, last))
        mask = torch.cat([mask, mask.new_ones((len(slots), 1))], dim=1)
        last = last + 1
        out = model(input_ids=torch.tensor(feed, dtype=torch.long, device=dev)[:, None], attention_mask=mask,
                    position_ids=last, past_key_values=cache, use_cache=True)
        logits = out.logits[:, -1, :]
    T = max(len(g) for g in gen)
    res = torch.full((B, L + T), pad_id, dtype=torch.long, device=dev)
    res[:, :L] = input_ids
    for r, g in enumerate(gen):
        res[r, L:L + len(g)] = torch.tensor(g, dtype=torch.long, device=dev)
    return res


class ResurfaceHFLM(HFLM):
    """``HFLM`` with shared-context log-likelihoods and row-dropping greedy generation (module doc)."""

    def _model_generate(self, context, max_length: int, stop: list[str], **generation_kwargs):
        import torch

        kwargs = dict(generation_kwargs)
        if kwargs.get("do_sample") is None and kwargs.get("temperature", 0.0) == 0.0:
            kwargs["do_sample"] = False  # lm-eval's own rule: temperature 0 means greedy
        config = getattr(self.model, "generation_config", None)
        if self.backend != "causal" or not plain_greedy(config, kwargs):
            return super()._model_generate(context, max_length, stop, **generation_kwargs)
        eos = getattr(config, "eos_token_id", None) if config is not None else None
        eos_ids = [] if eos is None else ([eos] if isinstance(eos, int) else list(eos))
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else (eos_ids or [0])[0]
        mask = kwargs.get("attention_mask")
        if mask is None:
            mask = torch.ones_like(context)
        with torch.no_grad(), torch.autocast(device_type=self.device.type, dtype=self.mixed_precision_dtype,
                                             enabled=self.mixed_precision_dtype is not None):
            return greedy_generate(self.model, self.tokenizer, context, mask, max_length - context.shape[1],
                                   stop, eos_ids, pad)

    def _rows_per_batch(self, override_bs: int | None) -> int:
        if override_bs:
            return int(override_bs)
        return self.batch_size if isinstance(self.batch_size, int) else DEFAULT_ROWS

    def _loglikelihood_tokens(self, requests: list[Request], disable_tqdm: bool = False,
                              override_bs: int | None = None) -> list[tuple[float, bool]]:
        import torch
        from tqdm import tqdm

        if self.backend != "causal":
            return super()._loglikelihood_tokens(requests, disable_tqdm=disable_tqdm, override_bs=override_bs)
        results: list[tuple[float, bool] | None] = [None] * len(requests)
        stock = [i for i, (_, ctx, cont) in enumerate(requests)
                 if not ctx or not cont or len(ctx) + len(cont) > self.max_length + 1]
        if stock:  # lm-eval truncates these from the left: keep its exact behaviour
            for i, res in zip(stock, super()._loglikelihood_tokens([requests[i] for i in stock], disable_tqdm=True,
                                                                    override_bs=override_bs)):
                results[i] = res
        groups: OrderedDict[tuple[int, ...], list[int]] = OrderedDict()
        for i, (_, ctx, _) in enumerate(requests):
            if results[i] is None:
                groups.setdefault(tuple(ctx), []).append(i)
        cap = self._rows_per_batch(override_bs)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        pbar = tqdm(total=len(requests) - len(stock), disable=disable_tqdm or self.rank != 0,
                    desc="Running loglikelihood requests")
        shapes = [(len(ctx), [len(requests[i][2]) for i in idx]) for ctx, idx in groups.items()]
        batches = pack_groups(shapes, cap)
        ordered = list(groups.items())
        for members in batches:
            chunk = [ordered[g] for g in members]
            with torch.no_grad(), torch.autocast(device_type=self.device.type, dtype=self.mixed_precision_dtype,
                                                 enabled=self.mixed_precision_dtype is not None):
                scored = score_shared_prefix(self.model, [list(ctx) for ctx, _ in chunk],
                                             [[requests[i][2] for i in idx] for _, idx in chunk], pad_id=pad,
                                             softmax_dtype=getattr(self, "softmax_dtype", None))
            for (_, idx), values in zip(chunk, scored):
                for i, answer in zip(idx, values):
                    results[i] = answer
                    if requests[i][0] is not None:
                        self.cache_hook.add_partial("loglikelihood", requests[i][0], answer)
                    pbar.update(1)
        pbar.close()
        return results  # type: ignore[return-value]
