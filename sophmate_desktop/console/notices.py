"""Console calls for the notification centre and the tray: notices, acknowledgements."""

from __future__ import annotations


class NoticeOps:
    pass
