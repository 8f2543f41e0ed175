"""A real S3 remote: DVC pushes and pulls data, and shares an experiment, through moto's S3 server
run in this process on 127.0.0.1 (nothing leaves the machine). Credentials go only into the
git-ignored .dvc/config.local, as docs/remote.md tells users to do."""

from __future__ import annotations

import hashlib
import os
import random
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import conftest
from tests.conftest import experiments, run

# starts an S3 server and drives DVC and git (about half a minute): `pytest -m 'not slow'` skips it
pytestmark = pytest.mark.slow

TIMEOUT = 180  # seconds for any one git or DVC command
KEY_ID = "test-key-id"  # moto takes any credentials; these are dummies
SECRET = "test-secret-key"


def dvc(repo: Path, *args: str) -> str:
    """conftest's `dvc`, with a shorter timeout: nothing here takes more than seconds."""
    return run(repo, sys.executable, "-m", "dvc", *args, timeout=TIMEOUT)


def dvc_fails(repo: Path, *args: str) -> str:
    """Run a DVC command that must fail; its output."""
    result = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=repo,
        env=conftest.ENV,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"dvc {' '.join(args)} should have failed:\n{output}"
    return output


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """moto's S3 server on a free port of 127.0.0.1, for this module's tests."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new bucket for each test; every subprocess sees no AWS settings of this machine's, so the
    only credentials DVC finds are those a test puts in .dvc/config.local."""
    for name in [name for name in conftest.ENV if name.startswith("AWS_")]:
        monkeypatch.delitem(conftest.ENV, name)
    monkeypatch.setitem(conftest.ENV, "AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setitem(conftest.ENV, "AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-keys"))
    monkeypatch.setitem(conftest.ENV, "AWS_EC2_METADATA_DISABLED", "true")  # no instance probe
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    monkeypatch.setitem(conftest.ENV, "NO_PROXY", no_proxy)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    monkeypatch.setitem(conftest.ENV, "DVC_NO_ANALYTICS", "1")  # conftest sets it too

    name = f"dvc-{uuid.uuid4().hex[:12]}"
    s3(endpoint).create_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3(endpoint).list_buckets()["Buckets"]]
    return name


def s3(endpoint: str) -> Any:
    """A boto3 S3 client of the moto server."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )


def stored(endpoint: str, bucket: str) -> list[str]:
    """The keys of every object in the bucket."""
    pages = s3(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def give_credentials(repo: Path) -> None:
    """The remote's keys, in .dvc/config.local only (git ignores it)."""
    dvc(repo, "remote", "modify", "--local", "storage", "access_key_id", KEY_ID)
    dvc(repo, "remote", "modify", "--local", "storage", "secret_access_key", SECRET)


def digests(folder: Path) -> dict[str, str]:
    """Each file's md5 under folder, by relative path."""
    return {
        path.relative_to(folder).as_posix(): hashlib.md5(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def project(tmp_path: Path, endpoint: str, bucket: str) -> Path:
    """A git + DVC repo with a small tracked folder and the S3 remote, committed; a bare repo as
    its git `origin`."""
    repo = tmp_path / "repo"
    repo.mkdir()
    run(repo, "git", "init", "-q", "-b", "main", timeout=TIMEOUT)
    dvc(repo, "init", "-q")
    # DVC must not phone home (as this project's own .dvc/config)
    config = "[core]\n    analytics = false\n    check_update = false\n"
    (repo / ".dvc" / "config").write_text(config)
    data = repo / "data"
    data.mkdir()
    rng = random.Random(0)
    (data / "a.bin").write_bytes(rng.randbytes(200))
    (data / "notes.txt").write_text("a few bytes of text\n")
    dvc(repo, "add", "-q", "data")
    run(repo, "git", "add", "-A", timeout=TIMEOUT)
    run(repo, "git", "commit", "-qm", "data", timeout=TIMEOUT)

    dvc(repo, "remote", "add", "-d", "storage", f"s3://{bucket}/store")
    dvc(repo, "remote", "modify", "storage", "endpointurl", endpoint)
    give_credentials(repo)
    config = (repo / ".dvc" / "config").read_text()
    assert f"s3://{bucket}/store" in config and endpoint in config, config
    for secret in (KEY_ID, SECRET, "access_key_id", "secret_access_key"):
        assert secret not in config, config
    local = (repo / ".dvc" / "config.local").read_text()
    assert KEY_ID in local and SECRET in local, local
    status = run(repo, "git", "status", "--porcelain", timeout=TIMEOUT)
    assert "config.local" not in status and ".dvc/config" in status, status
    run(repo, "git", "check-ignore", "-q", ".dvc/config.local", timeout=TIMEOUT)
    run(repo, "git", "commit", "-qam", "S3 remote", timeout=TIMEOUT)
    shown = run(repo, "git", "show", "--stat", "HEAD", timeout=TIMEOUT)
    assert "config.local" not in shown, shown

    origin = tmp_path / "origin.git"
    run(tmp_path, "git", "init", "-q", "--bare", "-b", "main", str(origin), timeout=TIMEOUT)
    run(repo, "git", "remote", "add", "origin", str(origin), timeout=TIMEOUT)
    run(repo, "git", "push", "-q", "origin", "main", timeout=TIMEOUT)
    return repo


def test_push_then_pull_in_a_clone(project: Path, endpoint: str, bucket: str, tmp_path: Path):
    """`dvc push` puts the tracked files in the bucket; a git clone with the same --local keys
    pulls them back, byte for byte, and is up to date."""
    original = digests(project / "data")
    assert stored(endpoint, bucket) == []
    dvc(project, "push")
    keys = stored(endpoint, bucket)
    assert keys and all(key.startswith("store/files/md5/") for key in keys), keys
    status = dvc(project, "status", "--cloud")
    assert status.strip().endswith("are in sync."), status

    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(project), str(clone), timeout=TIMEOUT)
    assert not (clone / ".dvc" / "config.local").exists()
    # the committed config names the bucket and the endpoint but no keys: no pull without them
    assert not (clone / "data").exists()
    assert "Unable to locate credentials" in dvc_fails(clone, "pull")
    assert not (clone / "data" / "a.bin").exists()

    give_credentials(clone)
    dvc(clone, "pull")
    status = dvc(clone, "status")
    assert status.strip().endswith("Data and pipelines are up to date."), status
    status = dvc(clone, "status", "--cloud")
    assert status.strip().endswith("are in sync."), status
    assert digests(clone / "data") == original
    assert (clone / "data" / "a.bin").read_bytes() == (project / "data" / "a.bin").read_bytes()
    assert run(clone, "git", "status", "--porcelain", timeout=TIMEOUT) == ""


def test_experiment_pushed_and_pulled_through_s3(
    project: Path, endpoint: str, bucket: str, tmp_path: Path
):
    """`dvc exp push` sends the experiment's git ref to origin and its outputs to S3; a fresh clone
    pulls both and applies it."""
    write = (
        "import yaml; value = yaml.safe_load(open('params.yaml'))['value']; "
        "open('out.txt', 'w').write(f'value={value}\\n')"
    )
    stage = {"cmd": f"{shlex.quote(sys.executable)} -c {shlex.quote(write)}"}
    stage |= {"params": ["value"], "outs": ["out.txt"]}
    (project / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"make": stage}}))
    (project / "params.yaml").write_text("value: 1\n")
    dvc(project, "repro")
    assert (project / "out.txt").read_text() == "value=1\n"
    run(project, "git", "add", "-A", timeout=TIMEOUT)
    run(project, "git", "commit", "-qm", "stage", timeout=TIMEOUT)
    dvc(project, "push")
    run(project, "git", "push", "-q", "origin", "main", timeout=TIMEOUT)
    before = set(stored(endpoint, bucket))

    dvc(project, "exp", "run", "-S", "value=2", "-n", "exp-s3")
    assert (project / "out.txt").read_text() == "value=2\n"
    dvc(project, "exp", "push", "origin", "exp-s3")
    assert len(set(stored(endpoint, bucket)) - before) == 1  # out.txt of value=2
    names = dvc(project, "exp", "list", "--name-only", "origin")
    assert "exp-s3" in names.split(), names

    fresh = tmp_path / "fresh"
    run(tmp_path, "git", "clone", "-q", str(tmp_path / "origin.git"), str(fresh), timeout=TIMEOUT)
    give_credentials(fresh)
    dvc(fresh, "exp", "pull", "origin", "exp-s3")
    names = dvc(fresh, "exp", "list", "--name-only")
    assert "exp-s3" in names.split(), names
    exp = experiments(fresh).get("exp-s3")
    assert exp is not None, names
    assert exp["params"]["params.yaml"]["data"] == {"value": 2}, exp

    dvc(fresh, "exp", "apply", "exp-s3")
    dvc(fresh, "pull")  # nothing left to fetch: exp pull brought the outputs, apply checked out
    assert (fresh / "out.txt").read_text() == "value=2\n"
    assert hashlib.md5(b"value=2\n").hexdigest() == exp["outs"]["out.txt"]["hash"]
    assert yaml.safe_load((fresh / "params.yaml").read_text()) == {"value": 2}
    status = dvc(fresh, "status")
    assert status.strip().endswith("Data and pipelines are up to date."), status
    assert digests(fresh / "data") == digests(project / "data")
