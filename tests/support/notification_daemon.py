"""A freedesktop Notifications service on the session bus, for the desktop-notifier
tests: `python -m tests.support.notification_daemon OUT` records each Notify call as a
JSON line in OUT (it runs in its own process: QtDBus's blocking calls hold the GIL)."""

from __future__ import annotations

import json
import sys

from jeepney import HeaderFields, MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

NAME = "org.freedesktop.Notifications"
_ARGS = ("s", "u", "s", "s", "s", "as", "a{sv}", "i")
XML = (
    "<node><interface name='org.freedesktop.Notifications'><method name='Notify'>"
    + "".join(f"<arg type='{t}' direction='in'/>" for t in _ARGS)
    + "<arg type='u' direction='out'/></method>"
    "<method name='GetCapabilities'><arg type='as' direction='out'/></method>"
    "</interface></node>"
)


def _answer(conn, msg, out, count: int) -> int:
    member = msg.header.fields.get(HeaderFields.member)
    if member == "Introspect":
        conn.send(new_method_return(msg, "s", (XML,)))
    elif member == "GetCapabilities":
        conn.send(new_method_return(msg, "as", (["body"],)))
    elif member == "Notify":
        signature = msg.header.fields.get(HeaderFields.signature)
        app, _, icon, summary, body, _, _, timeout = msg.body
        row = {"signature": signature, "app": app, "icon": icon, "summary": summary}
        row |= {"body": body, "timeout": timeout}
        out.write(json.dumps(row) + "\n")
        out.flush()
        count += 1
        conn.send(new_method_return(msg, "u", (count,)))
    else:
        conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (member,)))
    return count


def main(path: str) -> None:
    conn = open_dbus_connection(bus="SESSION")
    conn.send_and_get_reply(message_bus.RequestName(NAME))
    count = 0
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"ready": True}) + "\n")
        out.flush()
        while True:
            msg = conn.receive()
            if msg.header.message_type == MessageType.method_call:
                count = _answer(conn, msg, out, count)


if __name__ == "__main__":
    main(sys.argv[1])
