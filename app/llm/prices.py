"""What a model call cost in US dollars, from the maintained ``genai-prices`` list.

Optional (the ``cost`` extra) and imported on the first price asked for, so start-up never
pays for it. The list is bundled with the package: nothing is fetched. Unknown means
``None`` (shown as tokens only): a model the list does not know, a local server (Ollama, a
loopback or private URL), the demo, or the package not installed. ``[providers.NAME]
prices_from = "openai"`` says whose prices apply to a proxy in front of a priced provider.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from app.config import ProviderConfig
from app.config.base import DEFAULT_BASE_URLS

log = logging.getLogger(__name__)


@functools.cache
def _library() -> Any:
    """The ``genai_prices`` module, or None when it is not installed."""
    try:
        import genai_prices
    except ImportError:
        return None
    return genai_prices


def cost_usd(
    config: ProviderConfig | None, model: str, input_tokens: int, output_tokens: int
) -> float | None:
    """The price of ``input_tokens`` in and ``output_tokens`` out of ``model`` (the id the
    provider knows, without our ``provider/`` prefix) on the provider ``config``; None when
    unknown."""
    if config is None or config.kind in ("demo", "ollama") or input_tokens + output_tokens <= 0:
        return None
    library = _library()
    if library is None:
        return None
    where: dict[str, str] = {}
    if config.prices_from:
        where["provider_id"] = config.prices_from
    elif config.base_url is None or config.base_url == DEFAULT_BASE_URLS[config.kind]:
        where["provider_id"] = config.kind
    else:
        where["provider_api_url"] = config.base_url
    usage = library.Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    try:
        price = library.calc_price(usage, model_ref=model, **where)
    except LookupError:
        return None
    except Exception:  # a bug in the price list must not end a turn
        log.exception("could not price %s", model)
        return None
    return float(price.total_price)


def model_cost(
    providers: Mapping[str, ProviderConfig], model: str, input_tokens: int, output_tokens: int
) -> float | None:
    """:func:`cost_usd` of ``provider/model``, the provider looked up in ``providers``."""
    provider, _, name = model.partition("/")
    return cost_usd(providers.get(provider), name, input_tokens, output_tokens) if name else None
