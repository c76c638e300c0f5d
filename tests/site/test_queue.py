"""A real django-q2 cluster takes tasks from each supported broker and runs them."""

from __future__ import annotations

import signal

import pytest

from tests.site.processes import manage_popen, manage_run, migrated_sqlite, process_env

pytestmark = pytest.mark.slow

ROUND_TRIP = (
    "from django_q.tasks import async_task, result; "
    "task_id = async_task('arbitrage.tasks.ping'); "
    "print(result(task_id, wait=20000))"
)


def run_task_through_cluster(env, tmp_path) -> str:
    cluster = manage_popen(env, "qcluster", log=tmp_path / "qcluster.log")
    try:
        return manage_run(env, "shell", "-v", "0", "-c", ROUND_TRIP, timeout=60).stdout.strip()
    finally:
        cluster.send_signal(signal.SIGTERM)
        cluster.wait(timeout=30)


def test_cluster_runs_a_task_from_the_orm_broker(tmp_path):
    """Default configuration: the ORM broker on the project database."""
    env = process_env(migrated_sqlite(tmp_path), Q_WORKERS="2")
    assert run_task_through_cluster(env, tmp_path) == "pong"


@pytest.mark.redis
def test_cluster_runs_a_task_from_the_redis_broker(tmp_path, redis_url):
    """With Q_REDIS_URL the cluster uses Redis as its broker."""
    env = process_env(migrated_sqlite(tmp_path), Q_WORKERS="2", Q_REDIS_URL=redis_url)
    assert run_task_through_cluster(env, tmp_path) == "pong"
