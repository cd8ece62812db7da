"""Work shared with forked workers gives exactly what one process computes, in order, and a
failing worker's chunk is redone in the parent (where a real error keeps its class)."""

from __future__ import annotations

import os
import time

import pytest

from evalkit._forked import can_fork, forked_imap, forked_map, split

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork and two cores")


def _square_with_pid(state: dict, chunk: range) -> list[tuple[int, int]]:
    time.sleep(0.05)  # long enough for the pool to hand a worker its first chunks
    return [(state["offset"] + i * i, os.getpid()) for i in chunk]


def test_results_come_back_in_order_and_workers_share_the_work():
    chunks = split(range(4000), 8)
    out = forked_map(_square_with_pid, chunks, state={"offset": 7})
    values = [v for part in out for v, _ in part]
    assert values == [7 + i * i for i in range(4000)]
    pids = [{pid for _, pid in part} for part in out]
    assert pids[0] == {os.getpid()}  # the parent took the first chunk itself
    assert any(p != {os.getpid()} for p in pids[1:])  # and a worker took others


def _fails_in_workers(state: int, chunk: list[int]) -> list[int]:
    if os.getpid() != state:
        os._exit(3)  # a worker dies (killed, out of memory)
    return [x + 1 for x in chunk]


def test_a_dead_worker_s_chunks_are_redone_here():
    out = forked_map(_fails_in_workers, [[1, 2], [3], [4, 5], [6]], state=os.getpid())
    assert out == [[2, 3], [4], [5, 6], [7]]


class Refused(ValueError):
    pass


def _raises_on_three(_state: None, chunk: list[int]) -> list[int]:
    if 3 in chunk:
        raise Refused(f"chunk {chunk} refused")
    return chunk


def test_a_real_error_surfaces_with_its_class_and_message():
    with pytest.raises(Refused, match=r"chunk \[3\] refused"):
        forked_map(_raises_on_three, [[1], [2], [3], [4]], state=None)


@pytest.mark.parametrize(("n", "parts"), [(0, 3), (1, 3), (10, 3), (10, 1), (7, 7), (5, 9)])
def test_split_keeps_every_item_once_in_order(n, parts):
    chunks = split(list(range(n)), parts)
    assert [x for c in chunks for x in c] == list(range(n))
    assert all(chunks) and len(chunks) <= max(1, parts)
    assert max(map(len, chunks), default=0) - min(map(len, chunks), default=0) <= 1


def _square_marking_start(state: dict, chunk: range) -> list[tuple[int, int]]:
    (state["started"] / str(chunk.start)).touch()  # which chunks a worker has begun (at once: workers are fast)
    return [(state["offset"] + i * i, os.getpid()) for i in chunk]


def test_a_stream_comes_back_in_order_from_workers_with_a_bounded_number_in_flight(tmp_path):
    chunks = [range(k * 100, (k + 1) * 100) for k in range(12)]
    state = {"offset": 1, "started": tmp_path}
    out = []
    for part in forked_imap(_square_marking_start, chunks, state=state, ahead=3):
        out.append(part)
        time.sleep(0.05)  # a slow consumer: unbounded workers would have begun every chunk by now
        assert len(list(tmp_path.iterdir())) <= len(out) + 3  # never more than `ahead` beyond what was consumed
    assert [v for part in out for v, _ in part] == [1 + i * i for i in range(1200)]
    assert all({pid for _, pid in part} != {os.getpid()} for part in out)  # the caller only consumed


def test_a_stream_redoes_a_dead_worker_s_chunks_here_and_keeps_going():
    chunks = [[k, k + 1] for k in range(0, 20, 2)]
    assert list(forked_imap(_fails_in_workers, chunks, state=os.getpid())) == [[k + 1, k + 2] for k in range(0, 20, 2)]


def test_a_stream_closed_early_stops_its_workers(tmp_path):
    state = {"offset": 0, "started": tmp_path}
    stream = forked_imap(_square_marking_start, [range(k, k + 1) for k in range(50)], state=state, ahead=2)
    first = next(stream)
    time.sleep(0.2)  # unbounded workers would begin the other 49 meanwhile
    stream.close()  # the pool ends without starting the remaining chunks
    assert first[0][0] == 0
    assert len(list(tmp_path.iterdir())) <= 3  # the one consumed and at most `ahead` more, of 50
