"""xdist groups: tests in one group run one after another on one worker.

INOTIFY_QUEUE: tests that lower the system-wide inotify queue
(/proc/sys/fs/inotify/max_queued_events) or need all of it for a burst."""

INOTIFY_QUEUE = "inotify_queue"
