"""Batches bounded by rows and by tokens (harness/model/batches.py)."""

from __future__ import annotations

from harness.model.batches import bounded_batches


def test_rows_alone_bound_a_batch_without_a_token_budget():
    assert list(bounded_batches(list(range(5)), max_rows=2, max_tokens=None, row_tokens=lambda i: 1000)) == [
        [0, 1],
        [2, 3],
        [4],
    ]


def test_long_rows_go_fewer_at_a_time():
    lengths = [500, 400, 300, 100, 100, 100, 100, 50]  # longest first, as the callers sort them
    batches = list(bounded_batches(list(range(8)), max_rows=4, max_tokens=1000, row_tokens=lengths.__getitem__))
    assert batches == [[0, 1], [2, 3, 4], [5, 6, 7]]
    for batch in batches:  # the batch is as wide as its widest row
        assert len(batch) * max(lengths[i] for i in batch) <= 1000
    assert sorted(i for batch in batches for i in batch) == list(range(8))


def test_a_row_wider_than_the_budget_goes_alone():
    lengths = [5000, 4000, 10]
    batches = list(bounded_batches([0, 1, 2], max_rows=8, max_tokens=1000, row_tokens=lengths.__getitem__))
    assert batches == [[0], [1], [2]]
