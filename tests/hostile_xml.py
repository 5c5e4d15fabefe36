"""XML bombs shared by the parser's, the simulator's and the fuzzer's tests."""

from __future__ import annotations


def billion_laughs(element: bytes) -> bytes:
    """``element`` (which refers to ``&lol9;``) behind the classic ten-deep entity chain:
    10**9 "lol"s, about 3 GB, if a parser expanded it."""
    chain = b"".join(
        b' <!ENTITY lol%d "%s">\n' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10))
    return (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n' + chain
            + b"]>\n" + element)
