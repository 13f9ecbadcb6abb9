"""One authenticated call to an LMS service: the token, the request, the refusal's reason.

Shared by the AGS and NRPS clients. A 401 makes the token be forgotten and the call made
once more with a fresh one (a platform may revoke tokens early); paged containers are
followed through their ``Link: <…>; rel="next"`` header, with the URL kept as the platform
wrote it (pylti1p3 2.0.0's ServiceConnector lower-cases it, which breaks case-sensitive URLs).

Every call goes through the outbound policy (:mod:`xapi.outbound`) with the platform's
origins: a URL from a claim, a ``next`` link or a line item id that points anywhere else
is refused before any connection, as is a redirect; a refusal keeps only codes, never
text from the answer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

import requests

from lti_tool.services.context import LmsContext
from lti_tool.services.errors import LmsServiceError, oauth_code
from lti_tool.services.tokens import USER_AGENT, AccessTokens
from xapi.outbound import MIB, OutboundError, OutboundHttp, origin_of

log = logging.getLogger(__name__)

MAX_PAGES = 1000
# A page of a container (a roster: Moodle sends a whole course in one page) may be larger
# than the 1 MiB other answers are held to.
MAX_PAGE_BYTES = 8 * MIB


def _refusal(response: requests.Response) -> LmsServiceError:
    status = response.status_code
    detail = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # some platforms nest it
            error = error.get("code")
        detail = oauth_code(error)
    if status == 401:
        return LmsServiceError("LMS_UNAUTHORIZED", status=status, detail=detail)
    if status == 403:
        code = "LMS_SCOPE_REFUSED" if detail == "insufficient_scope" else "LMS_FORBIDDEN"
        return LmsServiceError(code, status=status, detail=detail)
    if status == 404:
        return LmsServiceError("LMS_NOT_FOUND", status=status, detail=detail)
    if status >= 500:
        return LmsServiceError("LMS_UNREACHABLE", status=status, detail=detail)
    return LmsServiceError("LMS_REQUEST_REFUSED", status=status, detail=detail)


class ServiceClient:
    """Calls on behalf of Jalon, with tokens from a shared :class:`AccessTokens`."""

    def __init__(self, http: OutboundHttp, tokens: AccessTokens) -> None:
        self.http = http
        self.tokens = tokens

    @staticmethod
    def scopes_for(context: LmsContext, acceptable: Iterable[str]) -> frozenset[str]:
        """Return the scope to ask for among those that allow an operation, or refuse.

        Only a granted scope is ever asked for: a token request naming one the platform did
        not grant fails as a whole (ltijs#148, #268).
        """
        for scope in acceptable:
            if scope in context.granted:
                return frozenset({scope})
        raise LmsServiceError("LMS_SCOPE_NOT_GRANTED", detail=" ".join(acceptable))

    def call(
        self,
        context: LmsContext,
        method: str,
        url: str,
        scopes: frozenset[str],
        *,
        accept: str,
        body: Any = None,
        content_type: str | None = None,
        params: dict[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> requests.Response:
        """Make an authenticated call; raise :class:`LmsServiceError` unless it succeeded."""
        try:
            # Before asking for a token: a URL off the platform's origins gets neither.
            self.http.policy.check_origin(url, context.origins)
        except OutboundError as exc:
            # The origin only (no path, no query): what an administrator would allow.
            log.warning(
                "LMS service URL refused: %s is not an origin of platform %s (client id %s); "
                "if it is the platform's, run: "
                "jalon platform origins --issuer %s --client-id %s --add %s",
                origin_of(url),
                context.access.issuer,
                context.access.client_id,
                context.access.issuer,
                context.access.client_id,
                origin_of(url),
            )
            raise LmsServiceError.outbound(exc) from exc
        for attempt in (1, 2):
            token = self.tokens.token(context.access, scopes, context.signer)
            headers = {
                "Authorization": f"Bearer {token}",
                "Accept": accept,
                "User-Agent": USER_AGENT,
            }
            data = None
            if body is not None:
                headers["Content-Type"] = content_type or "application/json"
                data = json.dumps(body, ensure_ascii=False).encode()
            try:
                response = self.http.request(
                    method,
                    url,
                    origins=context.origins,
                    headers=headers,
                    data=data,
                    params=params,
                    max_bytes=max_bytes,
                )
            except OutboundError as exc:
                raise LmsServiceError.outbound(exc) from exc
            if response.status_code == 401 and attempt == 1:
                self.tokens.forget(context.access, scopes)
                continue
            if response.status_code >= 400:
                raise _refusal(response)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def json(self, response: requests.Response) -> Any:
        """Return a response's JSON body, or refuse it."""
        try:
            return response.json()
        except ValueError as exc:
            raise LmsServiceError(
                "LMS_BAD_ANSWER", status=response.status_code, detail="not JSON"
            ) from exc

    def pages(
        self,
        context: LmsContext,
        url: str,
        scopes: frozenset[str],
        *,
        accept: str,
        params: dict[str, str] | None = None,
    ) -> Iterator[tuple[requests.Response, Any]]:
        """Yield each page of a container (response and JSON body), following ``rel="next"``."""
        seen: set[str] = set()
        next_url: str | None = url
        while next_url is not None:
            if next_url in seen or len(seen) >= MAX_PAGES:
                raise LmsServiceError("LMS_BAD_ANSWER", detail="the pages loop")
            seen.add(next_url)
            response = self.call(
                context,
                "GET",
                next_url,
                scopes,
                accept=accept,
                params=params,
                max_bytes=MAX_PAGE_BYTES,
            )
            yield response, self.json(response)
            params = None  # the next page's URL carries its own query
            link = response.links.get("next")
            next_url = link.get("url") if link else None
