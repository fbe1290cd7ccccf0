"""Push transports from the bridge to the WordPress plugin (docs/wordpress-contract.md, "Pushes").

Two transports carry the same signed JSON document:

- REST: ``POST {network_url}?rest_route=/bridge/v1/limits`` with the Standard Webhooks headers
  (``?rest_route=`` works whether or not the site has pretty permalinks);
- XML-RPC: ``bridge.setLimits(body, webhook_id, webhook_timestamp, webhook_signature)`` on
  ``{network_url}xmlrpc.php``, through python-wordpress-xmlrpc.

A fan-out sends batches: ``POST {network_url}?rest_route=/bridge/v1/limits/batch`` with
``{"documents": [...]}`` signed the same way, answered ``{"results": [...]}`` one per document
(applied, stale or error with a code). Over XML-RPC a batch is sent as single calls, one by one.

Every push goes to the network's own URL, the one the operator configured (``wordpress.url``);
the document's ``site_id`` names the blog the plugin applies it to. A site's URL, which arrives in
events, is data and never a push target. Redirects are not followed: a signed document with
prices and balance must never be re-posted to wherever a redirect points.

Errors are translated here, at the boundary, into two kinds the service layer can act on
(defined in bridge/errors.py, under WordPressError with its `retryable` and `status`):
WordPressUnavailable (retryable: timeouts, connection errors, 5xx, 429) and PushRejected (not
retryable: other 4xx, such as 401 bad signature or 400 bad document).

Messages are short and never contain the secret or the document.
"""

from __future__ import annotations

import collections
import collections.abc
import http.client
import json
import xmlrpc.client
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import requests

from bridge.contract import push_webhook, sign_headers
from bridge.errors import PushRejected, WordPressError, WordPressUnavailable
from bridge.services.ports import BatchItem, PushResult

# python-wordpress-xmlrpc 2.3 still reads `collections.Iterable` (removed in Python 3.10). The shim
# stays in this module, before the library's first import, and nowhere else.
if not hasattr(collections, "Iterable"):
    collections.Iterable = collections.abc.Iterable  # type: ignore[attr-defined]

from wordpress_xmlrpc import AnonymousMethod, Client
from wordpress_xmlrpc.exceptions import (
    InvalidCredentialsError,
    ServerConnectionError,
    UnsupportedXmlrpcMethodError,
    XmlrpcDisabledError,
)

__all__ = [
    "BatchItem",
    "PushRejected",
    "PushResult",
    "RestLimitsPusher",
    "WordPressError",
    "WordPressUnavailable",
    "XmlRpcLimitsPusher",
    "make_pusher",
]


def _base(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _body(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def _error_for_status(status: int, message: str) -> WordPressError:
    if status == 429 or status >= 500:
        return WordPressUnavailable(message, status)
    return PushRejected(message, status)


def _result(answer: Any, status: int | None) -> PushResult:
    if not isinstance(answer, dict) or not isinstance(answer.get("applied_version"), int):
        raise WordPressUnavailable("the plugin's answer has no applied_version", status)
    return PushResult(
        applied_version=int(answer["applied_version"]), ignored=bool(answer.get("ignored", False))
    )


def _notice_answer(answer: Any, document: dict[str, Any]) -> None:
    """The plugin answers a notice with its id and `sent`, `duplicate` (mailed before) or `off`."""
    if not isinstance(answer, dict) or answer.get("id") != document.get("id"):
        raise WordPressUnavailable("the plugin's answer does not name the notice")


def _batch_items(answer: Any, site_ids: Sequence[int]) -> list[BatchItem]:
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list) or len(results) != len(site_ids):
        raise WordPressUnavailable("the plugin's batch answer has no result per document")
    items = []
    for site_id, result in zip(site_ids, results, strict=True):
        if not isinstance(result, dict) or result.get("site_id") != site_id:
            raise WordPressUnavailable("the plugin's batch answer does not match its documents")
        status = result.get("status")
        version = result.get("applied_version")
        if status in ("applied", "stale") and isinstance(version, int):
            items.append(BatchItem(site_id, status, applied_version=version))
            continue
        http = result.get("http")
        code = str(result.get("code") or "no error code")[:100]
        items.append(
            BatchItem(site_id, "error", None, code, http if isinstance(http, int) else None)
        )
    return items


class RestLimitsPusher:
    """Pushes over the WordPress REST API with one keep-alive `requests.Session`."""

    def __init__(self, secret: str, timeout_s: float = 5.0) -> None:
        self._webhook = push_webhook(secret)
        self._timeout = (timeout_s, timeout_s)
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "plan-bridge"

    def push_site(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> PushResult:
        url = _base(network_url) + "?rest_route=/bridge/v1/limits"
        return self._post(url, document, at, msg_id)

    def push_defaults(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> PushResult:
        url = _base(network_url) + "?rest_route=/bridge/v1/default-limits"
        return self._post(url, document, at, msg_id)

    def push_notice(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> None:
        url = _base(network_url) + "?rest_route=/bridge/v1/notices"
        _notice_answer(self._send(url, _body(document), at, msg_id), document)

    def push_batch(
        self, network_url: str, documents: Sequence[tuple[int, str]], at: datetime, msg_id: str
    ) -> list[BatchItem]:
        url = _base(network_url) + "?rest_route=/bridge/v1/limits/batch"
        # The stored JSON texts go as they are: the signature covers these exact bytes.
        body = '{"documents":[' + ",".join(text for _, text in documents) + "]}"
        return _batch_items(self._send(url, body, at, msg_id), [s for s, _ in documents])

    def _post(self, url: str, document: dict[str, Any], at: datetime, msg_id: str) -> PushResult:
        return _result(self._send(url, _body(document), at, msg_id), 200)

    def _send(self, url: str, body: str, at: datetime, msg_id: str) -> Any:
        headers = sign_headers(self._webhook, msg_id, at, body)
        headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            response = self._session.post(
                url,
                data=body.encode(),
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise WordPressUnavailable("the site did not answer in time") from exc
        except requests.RequestException as exc:
            raise WordPressUnavailable(f"could not reach the site: {type(exc).__name__}") from exc
        with response:
            status = response.status_code
            try:
                answer: Any = response.json()
            except ValueError:
                answer = None
        if 300 <= status < 400:
            raise PushRejected("push refused: the network answered with a redirect", status)
        if status >= 400:
            code = answer.get("code") if isinstance(answer, dict) else None
            raise _error_for_status(status, f"push refused: {code or 'no error code'}")
        return answer

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> RestLimitsPusher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _TimeoutTransport(xmlrpc.client.Transport):
    """`xmlrpc.client.Transport` whose connections time out (the library's Client has no arg)."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        conn = super().make_connection(host)
        conn.timeout = self._timeout_s
        return conn


class _TimeoutSafeTransport(xmlrpc.client.SafeTransport):
    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def make_connection(self, host: Any) -> http.client.HTTPSConnection:
        conn = super().make_connection(host)
        conn.timeout = self._timeout_s
        return conn


def _signed_method(name: str) -> type[AnonymousMethod]:
    # Anonymous: the plugin authenticates the document by its signature, not by a WordPress user.
    return type(
        "SignedPush",
        (AnonymousMethod,),
        {
            "method_name": name,
            "method_args": ("body", "webhook_id", "webhook_timestamp", "webhook_signature"),
        },
    )


_SET_LIMITS = _signed_method("bridge.setLimits")
_SET_DEFAULT_LIMITS = _signed_method("bridge.setDefaultLimits")
_SEND_NOTICE = _signed_method("bridge.sendNotice")


class XmlRpcLimitsPusher:
    """Pushes through `xmlrpc.php` with python-wordpress-xmlrpc; one connection per push."""

    def __init__(self, secret: str, timeout_s: float = 5.0) -> None:
        self._webhook = push_webhook(secret)
        self._timeout_s = timeout_s

    def push_site(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> PushResult:
        return self._call(network_url, _SET_LIMITS, document, at, msg_id)

    def push_defaults(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> PushResult:
        return self._call(network_url, _SET_DEFAULT_LIMITS, document, at, msg_id)

    def push_notice(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> None:
        url = _base(network_url) + "xmlrpc.php"
        _notice_answer(self._raw_call(url, _SEND_NOTICE, document, at, msg_id), document)

    def push_batch(
        self, network_url: str, documents: Sequence[tuple[int, str]], at: datetime, msg_id: str
    ) -> list[BatchItem]:
        """XML-RPC has no batch method: the documents go as single calls, one after the other."""
        items = []
        for n, (site_id, text) in enumerate(documents):
            try:
                result = self.push_site(network_url, json.loads(text), at, f"{msg_id}-{n}")
            except PushRejected as exc:
                items.append(BatchItem(site_id, "error", code=str(exc), http_status=exc.status))
                continue
            status = "stale" if result.ignored else "applied"
            items.append(BatchItem(site_id, status, applied_version=result.applied_version))
        return items

    def close(self) -> None:
        """Nothing to release: each push opens and closes its own connection."""

    def _call(
        self,
        site_url: str,
        method: type[AnonymousMethod],
        document: dict[str, Any],
        at: datetime,
        msg_id: str,
    ) -> PushResult:
        return _result(
            self._raw_call(_base(site_url) + "xmlrpc.php", method, document, at, msg_id), None
        )

    def _raw_call(
        self,
        url: str,
        method: type[AnonymousMethod],
        document: dict[str, Any],
        at: datetime,
        msg_id: str,
    ) -> Any:
        body = _body(document)
        headers = sign_headers(self._webhook, msg_id, at, body)
        transport: xmlrpc.client.Transport = (
            _TimeoutSafeTransport(self._timeout_s)
            if url.startswith("https:")
            else _TimeoutTransport(self._timeout_s)
        )
        try:
            # The library's Client calls mt.supportedMethods while it is being built.
            client = Client(url, "", "", transport=transport)
            answer = client.call(
                method(
                    body,
                    headers["webhook-id"],
                    headers["webhook-timestamp"],
                    headers["webhook-signature"],
                )
            )
        except xmlrpc.client.Fault as exc:
            raise _error_for_status(
                exc.faultCode if isinstance(exc.faultCode, int) and exc.faultCode >= 400 else 500,
                f"push refused: XML-RPC fault {exc.faultCode}",
            ) from exc
        except ServerConnectionError as exc:
            cause = exc.__context__
            status = cause.errcode if isinstance(cause, xmlrpc.client.ProtocolError) else 503
            raise _error_for_status(status, "the XML-RPC endpoint refused the connection") from exc
        except xmlrpc.client.ProtocolError as exc:
            raise _error_for_status(exc.errcode, "the XML-RPC call failed") from exc
        except (XmlrpcDisabledError, UnsupportedXmlrpcMethodError, InvalidCredentialsError) as exc:
            raise PushRejected(f"XML-RPC cannot take the push: {type(exc).__name__}") from exc
        except TimeoutError as exc:
            raise WordPressUnavailable("the site did not answer in time") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise WordPressUnavailable(f"could not reach the site: {type(exc).__name__}") from exc
        except xmlrpc.client.ResponseError as exc:
            raise WordPressUnavailable("the site's XML-RPC answer was malformed") from exc
        finally:
            transport.close()
        return answer


def make_pusher(
    transport: str, secret: str, timeout_s: float
) -> RestLimitsPusher | XmlRpcLimitsPusher:
    """The pusher for `transport`: "rest" or "xmlrpc"."""
    if transport == "rest":
        return RestLimitsPusher(secret, timeout_s)
    if transport == "xmlrpc":
        return XmlRpcLimitsPusher(secret, timeout_s)
    raise ValueError(f"unknown WordPress transport {transport!r}; use 'rest' or 'xmlrpc'")
