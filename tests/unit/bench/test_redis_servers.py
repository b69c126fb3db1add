"""The Redis the benchmarks run on (bench/redis_servers.py): ``--redis single,cluster`` starts
a single Redis and a 3-master cluster in one run, and gives each stack of the project's layer
a cluster twin right after it, in both benchmarks, with the cluster/single ratio in the layer
table."""

from __future__ import annotations

import argparse

import pytest

from bench import layer_bench, layer_report, ws_bench
from bench.redis_servers import kinds_argument


def test_kinds_are_a_comma_list_of_single_and_cluster():
    assert kinds_argument("single,cluster") == ["single", "cluster"]
    assert kinds_argument("cluster, single,cluster") == ["cluster", "single"]
    for bad in ("", "sentinel", "single,many"):
        with pytest.raises(argparse.ArgumentTypeError, match="list one or both of single, cl"):
            kinds_argument(bad)


def arguments(redis_kinds: str, stacks: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(redis=kinds_argument(redis_kinds), stacks=stacks, baseline=None)


def test_ws_bench_twins_the_stacks_of_the_project_layer():
    """The cluster twin follows its stack; channels_redis and the minimal worker (which
    cannot run on a cluster) get none; the floor runs on no Redis whatever --redis says."""
    names = [spec.name for spec in ws_bench.chosen_stacks(arguments("single,cluster"), None)]
    assert names == [
        "floor",
        "djchan",
        "djchan (cluster)",
        "djchan, minimal worker",
        "djchan+channels_redis",
    ]
    only = ws_bench.chosen_stacks(arguments("cluster"), None)
    assert [(spec.name, spec.redis) for spec in only] == [
        ("floor", None),
        ("djchan (cluster)", "cluster"),
    ]
    assert [spec.name for spec in ws_bench.chosen_stacks(arguments("single"), None)] == [
        spec.name for spec in ws_bench.STACKS
    ]


def test_layer_bench_twins_djchan_and_gives_the_cluster_ratio():
    stacks = layer_bench.chosen_stacks(arguments("single,cluster"), None)
    assert [(name, redis_kind) for name, (_, _, redis_kind) in stacks.items()] == [
        ("djchan", "single"),
        ("djchan (cluster)", "cluster"),
        ("channels_redis", "single"),
    ]
    assert layer_report.ratios(list(stacks)) == [
        ("djchan (cluster)", "djchan"),
        ("djchan", "channels_redis"),
    ]
    with pytest.raises(SystemExit, match=r"no layer named \['djchan \(cluster\)'\]"):
        layer_bench.chosen_stacks(arguments("single", "djchan (cluster)"), None)
