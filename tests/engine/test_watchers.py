"""The folder watcher with real watchdog observers on temporary folders."""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sophmate_desktop.domain.errors import BadInput
from sophmate_desktop.engine.scan import scan_folder
from sophmate_desktop.engine.watchers import WatchManager, WatchSpec
from tests.support.groups import INOTIFY_QUEUE

WAIT = 10.0  # generous upper bound for anything that should happen


class Collector:
    """Records callbacks in queues; optionally reads the file at report time."""

    def __init__(self, read_content: bool = False) -> None:
        self.files: queue.Queue[tuple[str, Path, float, bytes | None]] = queue.Queue()
        self.problems: queue.Queue[tuple[str, str]] = queue.Queue()
        self.rescans: queue.Queue[tuple[str | None, float, str]] = queue.Queue()
        self.read_content = read_content
        self.fail_first: int = 0

    def on_file(self, key: str, path: Path) -> None:
        content = path.read_bytes() if self.read_content else None
        self.files.put((key, path, time.monotonic(), content))
        if self.fail_first > 0:
            self.fail_first -= 1
            raise RuntimeError("intake exploded")

    def on_problem(self, key: str, message: str) -> None:
        self.problems.put((key, message))

    def on_rescan(self, key: str | None) -> None:
        self.rescans.put((key, time.monotonic(), threading.current_thread().name))


def take_until(q: queue.Queue, done: Callable[[object], bool], timeout: float = WAIT) -> list:
    """Items from q up to and including the first one for which done() is true."""
    deadline = time.monotonic() + timeout
    items = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out; got so far: {items}")
        item = q.get(timeout=remaining)
        items.append(item)
        if done(item):
            return items


def reports_until(
    col: Collector, sentinel: Path, keys: int = 1, timeout: float = WAIT
) -> list[tuple[str, Path]]:
    """Reports up to the sentinel's report for `keys` workflows."""
    seen = []

    def done(item) -> bool:
        seen.append(item[1] == sentinel)
        return sum(seen) == keys

    items = take_until(col.files, done, timeout)
    return [(key, path) for key, path, _, _ in items]


def write(path: Path, data: bytes = b"data") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


@pytest.fixture
def make_manager() -> Iterator[Callable[..., tuple[WatchManager, Collector]]]:
    made: list[WatchManager] = []

    def make(col: Collector | None = None, **kwargs) -> tuple[WatchManager, Collector]:
        col = col or Collector()
        kwargs.setdefault("supervise_interval_s", 0.2)
        manager = WatchManager(col.on_file, col.on_problem, col.on_rescan, **kwargs)
        made.append(manager)
        return manager, col

    yield make
    for manager in made:
        manager.stop()


# ----- WatchSpec -----


def test_spec_matching_rules(tmp_path: Path) -> None:
    spec = WatchSpec("w", tmp_path, patterns=("*.csv", "in/*.json"), ignore=("~*",))
    assert spec.matches(tmp_path / "a.csv")
    assert not spec.matches(tmp_path / "a.CSV")  # case-sensitive on Linux
    assert not spec.matches(tmp_path / "a.txt")
    assert not spec.matches(tmp_path / "~a.csv")  # ignore wins
    assert not spec.matches(tmp_path / ".a.csv.sophmate-tmp-1234")  # our own temp files
    assert not spec.matches(tmp_path / "sub" / "a.csv")  # not recursive
    assert not spec.matches(tmp_path.parent / "a.csv")
    assert not spec.matches(tmp_path)
    (tmp_path / "dir.csv").mkdir()
    assert not spec.matches(tmp_path / "dir.csv")  # directories never match
    rec = WatchSpec("w", tmp_path, patterns=("*.csv", "in/*.json"), recursive=True)
    assert rec.matches(tmp_path / "sub" / "deep" / "a.csv")
    assert rec.matches(tmp_path / "in" / "x.json")
    assert not rec.matches(tmp_path / "x.json")
    assert WatchSpec("w", Path("rel")).folder == Path.cwd() / "rel"


def test_spec_rejects_bad_values(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="unknown event"):
        WatchSpec("w", tmp_path, events=frozenset({"created", "deleted"}))
    with pytest.raises(BadInput, match="settle_ms"):
        WatchSpec("w", tmp_path, settle_ms=-1)
    spec = WatchSpec("w", tmp_path, patterns="*.csv", events=("created",))  # type: ignore[arg-type]
    assert spec.patterns == ("*.csv",) and spec.events == frozenset({"created"})


# ----- events -----


def test_matching_file_reported_once_others_not(make_manager, watched_folder: Path) -> None:
    manager, col = make_manager()
    manager.set_watches(
        [WatchSpec("w", watched_folder, patterns=("*.csv",), ignore=("skip*",), settle_ms=50)]
    )
    manager.start()
    a = write(watched_folder / "a.csv")
    write(watched_folder / "b.txt")
    write(watched_folder / "skip1.csv")
    write(watched_folder / ".a.csv.sophmate-tmp-1")
    write(watched_folder / "sub" / "c.csv")
    (watched_folder / "dir.csv").mkdir()
    sentinel = write(watched_folder / "z.csv")
    assert reports_until(col, sentinel) == [("w", a), ("w", sentinel)]


# watchdog warns when its walk of a new subfolder and the folder's own event both add a watch
@pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")
def test_recursive_spec_sees_subfolders(make_manager, watched_folder: Path) -> None:
    manager, col = make_manager()
    manager.set_watches(
        [
            WatchSpec("flat", watched_folder, patterns=("*.csv",), settle_ms=50),
            WatchSpec("deep", watched_folder, patterns=("*.csv",), recursive=True, settle_ms=50),
        ]
    )
    manager.start()
    top = write(watched_folder / "top.csv")
    nested = write(watched_folder / "sub" / "deeper" / "n.csv")
    side = write(watched_folder / "sub" / "side.csv")
    expected = {("flat", top), ("deep", top), ("deep", nested), ("deep", side)}
    got: list[tuple[str, Path]] = []
    # Files in a brand-new subfolder may be reported in any order (watchdog walks it).
    while not expected <= set(got):
        got.append(col.files.get(timeout=WAIT)[:2])
    sentinel = write(watched_folder / "zz.csv")
    got += reports_until(col, sentinel, keys=2)
    assert Counter(got) == Counter([*expected, ("flat", sentinel), ("deep", sentinel)])


@pytest.mark.parametrize("settle_ms", [0, 100])
def test_rename_into_folder_reported_once_with_full_content(
    make_manager, watched_folder: Path, tmp_path: Path, settle_ms: int
) -> None:
    manager, col = make_manager(Collector(read_content=True))
    manager.set_watches([WatchSpec("w", watched_folder, patterns=("*.csv",), settle_ms=settle_ms)])
    manager.start()
    payload = b"id,amount\n" + b"1,2\n" * 50_000
    outside = write(tmp_path / "outside.csv", payload)
    from_outside = watched_folder / "from_outside.csv"
    os.rename(outside, from_outside)
    temp = write(watched_folder / ".x.tmp", payload)  # an editor's save
    from_temp = watched_folder / "x.csv"
    os.rename(temp, from_temp)
    sentinel = write(watched_folder / "zz.csv", b"end")
    items = take_until(col.files, lambda item: item[1] == sentinel)
    assert [path for _, path, _, _ in items] == [from_outside, from_temp, sentinel]
    assert items[0][3] == payload and items[1][3] == payload


def test_slow_writer_reported_once_after_last_chunk(make_manager, watched_folder: Path) -> None:
    manager, col = make_manager(Collector(read_content=True))
    manager.set_watches([WatchSpec("w", watched_folder, settle_ms=500)])
    manager.start()
    target = watched_folder / "slow.bin"
    chunk = b"x" * 4096
    with open(target, "wb") as f:
        for _ in range(10):
            f.write(chunk)
            f.flush()
            time.sleep(0.2)  # the writer is slow on purpose
            assert col.files.empty(), "reported while the writer was still writing"
        last_write = time.monotonic()
    key, path, reported_at, content = col.files.get(timeout=WAIT)
    assert (key, path) == ("w", target)
    assert content == chunk * 10
    assert reported_at >= last_write
    sentinel = write(watched_folder / "zz")
    assert reports_until(col, sentinel) == [("w", sentinel)]  # no second report


def test_close_write_completes_settling_when_asked(make_manager, watched_folder: Path) -> None:
    manager, col = make_manager(Collector(read_content=True))
    manager.set_watches(
        [
            WatchSpec(
                "close", watched_folder, ("*.a",), events={"created", "closed"}, settle_ms=60_000
            ),
            WatchSpec("plain", watched_folder, ("*.b",), settle_ms=600),
        ]
    )
    manager.start()
    # A 60 s settle, far beyond the WAIT deadline: a report within it can only come from
    # close-write ending the settling. How soon: python -m bench.responsiveness.
    write(watched_folder / "f.a", b"a" * 100_000)
    key, _, _, content = col.files.get(timeout=WAIT)
    assert key == "close" and content == b"a" * 100_000
    closed_at = time.monotonic()
    write(watched_folder / "f.b", b"b")
    key, _, reported_at, _ = col.files.get(timeout=WAIT)
    assert key == "plain" and reported_at - closed_at >= 0.55  # no shortcut without "closed"


def test_file_gone_before_settling_is_dropped(make_manager, watched_folder: Path) -> None:
    manager, col = make_manager()
    manager.set_watches([WatchSpec("w", watched_folder, settle_ms=200)])
    manager.start()
    write(watched_folder / "brief").unlink()
    sentinel = write(watched_folder / "zz")
    assert reports_until(col, sentinel) == [("w", sentinel)]


@pytest.mark.xdist_group(INOTIFY_QUEUE)
@pytest.mark.parametrize("settle_ms", [0, 200])
def test_burst_of_5000_files_all_reported(make_manager, tmp_path: Path, settle_ms: int) -> None:
    folder = tmp_path / f"burst{settle_ms}"
    folder.mkdir()
    manager, col = make_manager()
    manager.set_watches([WatchSpec("w", folder, settle_ms=settle_ms)])
    limit = Path("/proc/sys/fs/inotify/max_queued_events")
    if limit.exists() and int(limit.read_text()) < 3 * 5000:  # 3 events per new file
        pytest.skip(f"{limit} is {limit.read_text().strip()} now (another test lowered it?)")
    manager.start()
    expected = {write(folder / f"f{i:05}.csv", b"x") for i in range(5000)}
    seen: Counter[Path] = Counter()
    deadline = time.monotonic() + 30
    while not expected <= seen.keys() and time.monotonic() < deadline:
        try:
            seen[col.files.get(timeout=1)[1]] += 1
        except queue.Empty:
            pass
    assert col.rescans.empty(), "events were lost (rescan requested) in a 5,000-file burst"
    missing = expected - seen.keys()
    assert not missing, f"{len(missing)} of 5000 never reported"
    duplicates = {p: n for p, n in seen.items() if n > 1}
    if settle_ms > 0:
        assert not duplicates, f"{len(duplicates)} files reported twice: {list(duplicates)[:5]}"


def test_set_watches_live(make_manager, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    manager, col = make_manager()
    spec_a = WatchSpec("a", one, settle_ms=50)
    manager.set_watches([spec_a])
    manager.start()
    first = write(one / "1")
    assert reports_until(col, first) == [("a", first)]

    assert manager._native is not None
    emitters = set(manager._native.emitters)
    spec_b = WatchSpec("b", two, patterns=("*.csv",), settle_ms=50)
    manager.set_watches([spec_a, spec_b])  # add
    assert emitters < set(manager._native.emitters)  # a's watch was kept
    added = write(two / "added.csv")
    assert reports_until(col, added) == [("b", added)]

    manager.set_watches([spec_b])  # remove a
    write(one / "ignored")
    sentinel = write(two / "s1.csv")
    assert reports_until(col, sentinel) == [("b", sentinel)]

    manager.set_watches([WatchSpec("b", two, patterns=("*.txt",), settle_ms=50)])  # change
    write(two / "old.csv")
    new = write(two / "new.txt")
    assert reports_until(col, new) == [("b", new)]
    assert manager.is_alive


@pytest.mark.parametrize("settle_ms", [0, 50])
def test_failing_callback_does_not_stop_the_watcher(
    make_manager, watched_folder: Path, settle_ms: int
) -> None:
    col = Collector()
    col.fail_first = 2
    manager, col = make_manager(col)
    manager.set_watches([WatchSpec("w", watched_folder, settle_ms=settle_ms)])
    manager.start()
    paths = [write(watched_folder / f"f{i}") for i in range(4)]
    assert [p for _, p in reports_until(col, paths[-1])] == paths


def test_missing_folder_reported_then_watched_once_it_appears(make_manager, tmp_path: Path) -> None:
    folder = tmp_path / "later"
    manager, col = make_manager()
    manager.set_watches([WatchSpec("w", folder, settle_ms=0)])
    manager.start()
    key, message = col.problems.get(timeout=WAIT)
    assert key == "w" and str(folder) in message and "does not exist" in message
    folder.mkdir()
    assert take_until(col.rescans, lambda item: item[0] == "w")
    first = write(folder / "first")
    assert reports_until(col, first) == [("w", first)]

    # It vanishes while watched, then comes back.
    first.unlink()
    folder.rmdir()
    key, message = col.problems.get(timeout=WAIT)
    assert key == "w" and str(folder) in message
    folder.mkdir()
    assert take_until(col.rescans, lambda item: item[0] == "w")
    again = write(folder / "again")
    assert reports_until(col, again) == [("w", again)]


def test_supervisor_restarts_a_stopped_observer(make_manager, watched_folder: Path) -> None:
    manager, col = make_manager()
    manager.set_watches([WatchSpec("w", watched_folder, settle_ms=0)])
    manager.start()
    observer = manager._native
    assert observer is not None
    observer.stop()  # behind the manager's back
    rescan_key, _, thread_name = col.rescans.get(timeout=WAIT)
    assert rescan_key is None and thread_name == "sophmate-watch-supervisor"
    assert manager._native is not None and manager._native is not observer
    after = write(watched_folder / "after")
    assert reports_until(col, after) == [("w", after)]


def test_overflow_warning_triggers_debounced_rescan(make_manager, watched_folder: Path) -> None:
    manager, col = make_manager()
    manager.set_watches([WatchSpec("w", watched_folder)])
    manager.start()
    inotify_log = logging.getLogger("watchdog.observers.inotify_buffer")
    inotify_log.warning("Inotify queue overflowed; filesystem events were lost")
    key, first_at, thread_name = col.rescans.get(timeout=WAIT)
    assert key is None and thread_name == "sophmate-watch-supervisor"
    for _ in range(20):  # a storm of warnings: one more rescan, not twenty
        inotify_log.warning("Inotify queue overflowed; filesystem events were lost")
    key, second_at, _ = col.rescans.get(timeout=WAIT)
    assert key is None and second_at - first_at >= 0.49
    inotify_log.warning("something unrelated")
    with pytest.raises(queue.Empty):
        col.rescans.get(timeout=0.8)


def _flood_while_busy(folder: Path) -> None:
    """Another process makes 3000 files in `folder` while this one holds the GIL."""
    writer = (
        "import os, sys\n"
        "for i in range(3000):\n"
        "    os.close(os.open(f'{sys.argv[1]}/f{i:04}', os.O_CREAT | os.O_WRONLY))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", writer, str(folder)])
    # Play a busy process: hold the GIL for a while so our inotify reader cannot drain
    # the kernel queue while the writer (another process) fills it.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(5.0)
    try:
        busy_until = time.monotonic() + 0.5
        while time.monotonic() < busy_until:
            pass
    finally:
        sys.setswitchinterval(interval)
    assert proc.wait(timeout=60) == 0


def _found_by_event_or_scan(
    expected: set[Path], col: Collector, scanned: queue.Queue[Path]
) -> tuple[set[Path], set[Path]]:
    """The files reported by an event and by the rescan, once all are found or WAIT ends."""
    by_event: set[Path] = set()
    by_scan: set[Path] = set()
    deadline = time.monotonic() + WAIT
    while not expected <= by_event | by_scan and time.monotonic() < deadline:
        try:
            by_event.add(col.files.get(timeout=0.05)[1])
        except queue.Empty:
            pass
        while not scanned.empty():
            by_scan.add(scanned.get())
    return by_event, by_scan


@pytest.mark.xdist_group(INOTIFY_QUEUE)
def test_real_inotify_overflow_asks_for_a_rescan(make_manager, tmp_path: Path) -> None:
    limit = Path("/proc/sys/fs/inotify/max_queued_events")
    if not limit.exists() or not os.access(limit, os.W_OK):
        pytest.skip("needs root and a writable /proc/sys/fs/inotify/max_queued_events")
    folder = tmp_path / "flood"
    folder.mkdir()
    spec = WatchSpec("w", folder, settle_ms=0)
    col = Collector()
    manager, col = make_manager(col)
    scanned: queue.Queue[Path] = queue.Queue()

    def on_rescan(key: str | None) -> None:  # what the intake does: reconcile
        for path in scan_folder(spec):
            scanned.put(path)
        col.on_rescan(key)

    manager._on_rescan = on_rescan
    manager.set_watches([spec])
    old = limit.read_text()
    try:
        limit.write_text("64")
        manager.start()  # the queue size is fixed when the inotify instance is made
    finally:
        limit.write_text(old)  # restore at once: other processes share the setting
    _flood_while_busy(folder)
    expected = {folder / f"f{i:04}" for i in range(3000)}
    try:
        rescan_key, _, _ = col.rescans.get(timeout=WAIT)
    except queue.Empty:
        pytest.fail(f"no rescan after the overflow; {col.files.qsize()} events arrived")
    assert rescan_key is None
    by_event, by_scan = _found_by_event_or_scan(expected, col, scanned)
    assert expected <= by_event | by_scan, f"{len(expected - by_event - by_scan)} files lost"
    print(f"overflow: {len(expected - by_event)} of 3000 files had no event; the scan found them")


def test_polling_mode_reports_new_file(make_manager, watched_folder: Path) -> None:
    manager, col = make_manager(polling_interval_s=0.2)
    manager.set_watches([WatchSpec("net", watched_folder, polling=True, settle_ms=100)])
    manager.start()
    assert manager._native is None  # no inotify observer for a polling-only set
    path = write(watched_folder / "on-share.csv")
    assert reports_until(col, path) == [("net", path)]


def test_stop_joins_every_thread(make_manager, tmp_path: Path) -> None:
    before = set(threading.enumerate())
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    manager, col = make_manager(polling_interval_s=0.2)
    manager.set_watches(
        [
            WatchSpec("a", a, settle_ms=100),
            WatchSpec("b", b, polling=True, settle_ms=100),
            WatchSpec("m", tmp_path / "missing"),
        ]
    )
    manager.start()
    manager.start()  # idempotent
    path = write(a / "x")
    assert reports_until(col, path) == [("a", path)]
    write(a / "pending")  # still settling when we stop
    assert len(set(threading.enumerate()) - before) >= 5
    manager.stop()
    manager.stop()  # idempotent
    assert not manager.is_alive
    leftover = [t.name for t in set(threading.enumerate()) - before]
    assert leftover == []


def test_renames_with_settle_zero_are_each_reported_once_in_order(
    make_manager, watched_folder: Path, tmp_path: Path
) -> None:
    # How fast (rename -> on_file, median and p95): python -m bench.trigger.
    manager, col = make_manager()
    manager.set_watches([WatchSpec("w", watched_folder, patterns=("*.csv",), settle_ms=0)])
    manager.start()
    outside = tmp_path / "out"
    outside.mkdir()
    renamed = []
    for i in range(200):
        src = write(outside / f"r{i}.csv", b"x")
        dest = watched_folder / src.name
        os.rename(src, dest)
        key, path, _, _ = col.files.get(timeout=WAIT)
        assert (key, path) == ("w", dest)  # this rename's report, before the next rename
        renamed.append(dest)
    sentinel = write(watched_folder / "zz.csv")
    assert reports_until(col, sentinel) == [("w", sentinel)]  # none of the 200 twice
    assert len(set(renamed)) == 200 and not list(outside.iterdir())


def test_a_folder_watched_for_arrivals_alone_is_not_sent_writes_and_closes(
    make_manager, tmp_path: Path
) -> None:
    """settle_ms 0 and only created/moved on every spec of a folder: the kernel is not
    asked for the write and close events that follow each create (two of a burst's
    three events per file); a folder with a settling spec still gets them."""
    instant_dir, settling_dir = tmp_path / "instant", tmp_path / "settling"
    instant_dir.mkdir()
    settling_dir.mkdir()
    manager, col = make_manager()
    seen: list[tuple[str, str]] = []
    on_event = manager._on_event

    def counting(gkey, event) -> None:
        seen.append((Path(gkey.folder).name, event.event_type))
        on_event(gkey, event)

    manager._on_event = counting  # type: ignore[method-assign]
    manager.set_watches(
        [
            WatchSpec("instant", instant_dir, settle_ms=0),
            WatchSpec("instant-too", instant_dir, patterns=("*.csv",), settle_ms=0),
            WatchSpec("settling", settling_dir, settle_ms=50),
        ]
    )
    manager.start()
    fast = write(instant_dir / "a.csv", b"x" * 10)
    slow = write(settling_dir / "b", b"y" * 10)
    got = take_until(col.files, lambda item: item[1] == slow)
    got += take_until(col.files, lambda item: item[1] == fast) if len(got) < 3 else []
    assert sorted((k, p.name) for k, p, _, _ in got) == [
        ("instant", "a.csv"),
        ("instant-too", "a.csv"),
        ("settling", "b"),
    ]
    assert {kind for folder, kind in seen if folder == "instant"} == {"created"}
    assert {"created", "modified", "closed"} <= {k for f, k in seen if f == "settling"}


def test_a_folder_that_gains_a_settling_spec_is_watched_for_writes_again(
    make_manager, watched_folder: Path
) -> None:
    manager, col = make_manager()
    manager.set_watches([WatchSpec("w", watched_folder, settle_ms=0)])
    manager.start()
    first = write(watched_folder / "1")
    assert reports_until(col, first) == [("w", first)]

    # Another workflow settles on the same folder: both groups ask for every event.
    both = [
        WatchSpec("w", watched_folder, settle_ms=0),
        WatchSpec("slow", watched_folder, patterns=("*.slow",), settle_ms=50),
    ]
    manager.set_watches(both)
    assert {g.arrivals_only for g in manager._groups} == {False}
    path = watched_folder / "grows.slow"
    with open(path, "wb") as f:  # a slow writer: "slow" settles on its writes
        for _ in range(3):
            f.write(b"chunk")
            f.flush()
            time.sleep(0.03)
    got = take_until(col.files, lambda item: item[:2] == ("slow", path))
    assert [k for k, p, _, _ in got if p == path].count("slow") == 1

    manager.set_watches([WatchSpec("w", watched_folder, settle_ms=0)])
    assert {g.arrivals_only for g in manager._groups} == {True}
    third = write(watched_folder / "3")
    assert reports_until(col, third) == [("w", third)]
