"""``mockexchange accounts ...``: the account commands of the CLI (create, list, rotate, revoke, delete).

Each becomes one admin ``routes.Call``, like every other command, so it works straight on Valkey and against a
server with the admin key (``--url``/``--api-key``). A new key and secret are printed once: keep them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .routes import Call

#: Route names of the account commands, for rendering.
ACCOUNT_ROUTES = ("create_account", "accounts", "rotate_account", "revoke_account", "delete_account")

_SUBCOMMANDS = {
    "create": ("create an account and print its API key and secret (shown once)", "create_account"),
    "list": ("list the accounts (names and creation times; never keys)", "accounts"),
    "rotate": ("give an account a new key and secret; the old ones stop at once", "rotate_account"),
    "revoke": ("stop an account's key at once (its books stay)", "revoke_account"),
    "delete": ("delete an account: its key stops and its books are wiped", "delete_account"),
}


def add_accounts_command(command: Callable[[str, str], argparse.ArgumentParser], global_flags: Any) -> None:
    """The ``accounts`` command and its subcommands (``command`` makes a top-level command parser)."""
    parser = command("accounts", "manage accounts and their API keys (admin)")
    sub = parser.add_subparsers(dest="accounts_command", metavar="SUBCOMMAND", required=True)
    for name, (help, _route) in _SUBCOMMANDS.items():
        child = sub.add_parser(name, help=help, description=help)
        global_flags(child, top=False)
        if name != "list":
            child.add_argument("name", metavar="ACCOUNT")


def accounts_call(args: argparse.Namespace) -> Call:
    route = _SUBCOMMANDS[args.accounts_command][1]
    if route == "accounts":
        return Call(route)
    if route == "create_account":
        return Call(route, body={"account": args.name})
    return Call(route, path={"account": args.name}, body=None if route == "delete_account" else {})


def render_accounts(route: str, answer: Any, table: Callable[..., str]) -> str:
    if route == "accounts":
        rows = [[a["account"], a["datetime"], "yes" if a["hasKey"] else "no"] for a in answer]
        return table(("ACCOUNT", "CREATED", "TRADING KEY"), rows) if rows else "(no accounts)"
    if route in ("create_account", "rotate_account"):
        return "\n".join(
            [
                f"account: {answer['account']}",
                f"API key: {answer['apiKey']}",
                f"secret:  {answer['secret']}",
                "(shown once: keep them; clients send the key as the x-api-key header)",
            ]
        )
    if route == "revoke_account":
        return f"the key of {answer['account']} is revoked (its books stay)"
    return f"account {answer['account']} deleted"
