"""Sanic 21.12 (Rasa's web server, and the action server's) drops the connection, with a
traceback in the log, on a request whose target isn't a valid URL (a raw non-ASCII byte, as a
fuzzer or a careless client sends): its error path builds a placeholder request from the same
URL and fails again. `answer_malformed_urls()` makes that a 400 answer (JSON) instead."""

from __future__ import annotations


def answer_malformed_urls() -> None:
    """Patch Sanic's HTTP/1 error path (idempotent); call before the server starts.

    (Sanic recompiles `http1_request_header` from its source at start-up, so the patch goes
    on `error_response`, which it leaves alone.)
    """
    from httptools.parser.errors import HttpParserInvalidURLError
    from sanic.exceptions import InvalidUsage
    from sanic.http import Http

    if getattr(Http, "leadbot_patched", False):
        return
    error_response = Http.error_response

    async def answer(self, exception):  # type: ignore[no-untyped-def]
        if isinstance(exception, HttpParserInvalidURLError):
            self.url = None  # the placeholder request for the answer gets `*`
            exception = InvalidUsage("the request target is not a valid URL")
        await error_response(self, exception)

    Http.error_response = answer
    Http.leadbot_patched = True
