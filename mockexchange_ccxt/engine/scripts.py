"""The engine's Lua scripts as one Valkey library of functions: loaded once per server (``FUNCTION LOAD``), then
called by name (``FCALL``).

Each file of ``engine/lua`` is a helper file (``HELPERS``: what several scripts share) or a script (any other
file: the body of one function, called with ``KEYS`` and ``ARGV``). Sent as a script (``EVALSHA``), a file runs
its whole text on every call, so it would define every helper it uses again each time (about 15 us of the 70 a
market order's placing cost); a library's helpers are made once, and a call only runs its script's body.

Valkey runs a library's top level without the Lua globals (no ``string``, no ``redis.call``: only
``redis.register_function``), and the helpers read some at their top level (``candle_lib.lua``'s short names,
``lib.lua``'s table of record names). So the library's top level only registers the functions, and its first
call makes the helpers and the scripts, once (``make``).

A function's name carries a tag of the library's text (``place_order_<tag>``), and so does the library's: a
server may hold the libraries of several versions of the engine (an upgrade, two versions sharing one Valkey),
and each process calls its own. ``engine/store.py`` loads the library when a server answers that it does not
know a function (a new or restarted server, ``FUNCTION FLUSH``, a cluster node that joined).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .record_codec import with_names

#: The helper files, in the order they are made (a file may use what an earlier one defines).
HELPERS = ("lib", "book_lib", "settle_lib", "candle_lib", "record_lib")


@dataclass(frozen=True)
class Library:
    """The library's text (what ``FUNCTION LOAD`` takes), its name, and each script's function name."""

    name: str
    source: str
    functions: dict[str, str]


def _read(name: str) -> str:
    return resources.files(__package__).joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")


def helpers() -> str:
    """The helper files as one Lua text, the record names filled in (also a valid ``EVAL`` prelude: the tests
    run single helpers that way)."""
    return with_names("".join(_read(name) for name in HELPERS))


@cache
def library() -> Library:
    """The library of every script in ``engine/lua`` (read once per process)."""
    folder = resources.files(__package__).joinpath("lua")
    names = sorted(
        entry.name[: -len(".lua")]
        for entry in folder.iterdir()
        if entry.name.endswith(".lua") and entry.name[: -len(".lua")] not in HELPERS
    )
    bodies = "".join(f"{name} = function(KEYS, ARGV)\n{_read(name)}\nend,\n" for name in names)
    made = f"{_MAKE_HEAD}{helpers()}return {{\n{bodies}}}\nend\n{_CALL}"
    tag = hashlib.sha1(made.encode()).hexdigest()[:16]
    functions = {name: f"{name}_{tag}" for name in names}
    registered = "".join(f"redis.register_function('{functions[name]}', script('{name}'))\n" for name in names)
    return Library(f"mockx_{tag}", f"#!lua name=mockx_{tag}\n{made}{registered}", functions)


_MAKE_HEAD = """\
-- The engine's scripts (engine/scripts.py): the helpers and every script's body, made on the first call.
local scripts
local function make()
"""
_CALL = """\
local function script(name)
  return function(KEYS, ARGV)
    scripts = scripts or make()
    return scripts[name](KEYS, ARGV)
  end
end
"""
