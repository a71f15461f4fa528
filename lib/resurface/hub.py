"""Hugging Face Hub access for the `paper` profile: use the local cache first, fail fast otherwise.

:func:`allow_hub` is the rule (only the `paper` profile may touch the Hub); the rest is never called
in the `smoke` or `course` profiles, which never touch the network.
"""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request

from resurface.errors import HubUnavailableError


def allow_hub(P: dict) -> bool:
    """Only the paper profile may touch the Hub."""
    return P["profile"] == "paper"


_COURSE_HINT = (
    "The offline 'course' profile needs no Hub (e.g. `make book`, or papermill with "
    "-f notebooks/params/course/_common.yaml); model aliases: `resurface models`."
)


def hub_offline() -> bool:
    """True when the environment forbids Hub access (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE)."""
    return any(os.environ.get(v, "").strip().lower() in {"1", "true", "yes", "on"}
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


#: what every "the Hub cannot be reached" message says, so that a user sees the three usual causes
UNREACHABLE = "the Hugging Face Hub cannot be reached (offline, proxy, or HF_ENDPOINT)"


def hub_endpoint() -> str:
    """The Hub address this process would use: HF_ENDPOINT when set, else huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def unreachable_fix() -> str:
    """What to do when :func:`probe_hub` fails: the three causes, each with its repair."""
    return (f"connect to the network; behind a proxy export HTTPS_PROXY; check HF_ENDPOINT "
            f"(now {hub_endpoint()}); or unset HF_HUB_OFFLINE. To check the plan without the Hub: "
            "`resurface check --fixtures tests/fixtures/preflight`. " + _COURSE_HINT)


def probe_hub(timeout: float = 5.0) -> str | None:
    """One request to the Hub's API with a hard ``timeout`` (DNS included); None when it answers.

    Otherwise a short reason (offline mode, refused, timed out, proxy error, HTTP 5xx). Any HTTP
    answer below 500 (even 401) means the Hub is reachable: access to one repo is checked per repo.
    """
    if hub_offline():
        return "Hub access is off (HF_HUB_OFFLINE=1 or TRANSFORMERS_OFFLINE=1)"
    url = f"{hub_endpoint()}/api/models?limit=1"
    answer: list[str | None] = []

    def ask() -> None:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
                answer.append(None)
        except urllib.error.HTTPError as exc:
            answer.append(None if exc.code < 500 else f"{url} answered HTTP {exc.code}")
        except Exception as exc:  # URLError (refused, DNS), timeouts, proxy and TLS errors
            reason = getattr(exc, "reason", None) or exc
            answer.append(f"{url}: {str(reason).strip() or type(exc).__name__}")

    # getaddrinfo ignores the socket timeout: bound the whole request from outside
    t = threading.Thread(target=ask, daemon=True)
    t.start()
    t.join(timeout + 1.0)
    if not answer:
        return f"{url}: no answer within {timeout:g} s"
    return answer[0]


def resolve_repo(repo_id: str, repo_type: str = "model", revision: str | None = None,
                 timeout: float = 10.0) -> str:
    """Return a local snapshot folder for a Hub repo, downloading it only when the Hub is reachable.

    Raises HubUnavailableError within ``timeout`` seconds when the repo is neither cached nor
    reachable, naming the repo id and what to do about it.
    """
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(repo_id, repo_type=repo_type, revision=revision, local_files_only=True)
    except Exception:
        pass
    kind = "dataset" if repo_type == "dataset" else "model"
    if hub_offline():
        raise HubUnavailableError(
            f"{kind} '{repo_id}' is not in the local Hugging Face cache and Hub access is off "
            f"(HF_HUB_OFFLINE=1). Run once with Hub access (unset HF_HUB_OFFLINE; gated models "
            f"also need `hf auth login`), or copy the snapshot into HF_HOME. {_COURSE_HINT}")
    problem = probe_hub(min(timeout, 5.0))
    if problem is not None:
        raise HubUnavailableError(f"{kind} '{repo_id}' is not in the local Hugging Face cache and "
                                  f"{UNREACHABLE}: {problem}. Fix: {unreachable_fix()}")
    check_reachable(repo_id, repo_type=repo_type, revision=revision, timeout=timeout)
    return snapshot_download(repo_id, repo_type=repo_type, revision=revision)


def check_reachable(repo_id: str, repo_type: str = "model", revision: str | None = None,
                    timeout: float = 10.0) -> None:
    """Ask the Hub for the repo's metadata with a short timeout; raise a clear error if that fails."""
    from huggingface_hub import HfApi

    kind = "dataset" if repo_type == "dataset" else "model"
    try:
        HfApi().repo_info(repo_id, repo_type=repo_type, revision=revision, timeout=timeout)
    except Exception as exc:  # network errors, 401/403 for gated repos, 404
        text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        gated = any(s in text for s in ("401", "403", "gated", "restricted"))
        fix = ("accept the model's licence on its Hub page and log in (`hf auth login` or HF_TOKEN)"
               if gated else "check the id and your network or proxy settings")
        raise HubUnavailableError(
            f"cannot reach the Hugging Face Hub for {kind} '{repo_id}': {text}. "
            f"The 'paper' profile needs Hub access: {fix}. {_COURSE_HINT}") from None
