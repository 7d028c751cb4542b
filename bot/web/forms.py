"""Reading a submitted form: a body aiohttp can't parse (a broken multipart boundary, bytes
that aren't the declared encoding) is the sender's mistake, answered 400, never a 500."""

from __future__ import annotations

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy


async def read_form(request: web.Request) -> MultiDictProxy:
    try:
        return await request.post()
    except web.HTTPException:
        raise  # e.g. 413 for a body over client_max_size
    except (ValueError, AssertionError, LookupError, UnicodeError, HttpProcessingError) as error:
        # HttpProcessingError: a multipart part with a malformed header (InvalidHeader)
        raise web.HTTPBadRequest(reason="Malformed Form") from error
