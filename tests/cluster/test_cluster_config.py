"""The deployment configs, checked with the installed Ray's own machinery (no cloud, no cluster needed).

cluster.yaml goes through what `ray up` does before it touches AWS: `yaml.safe_load`, then
`prepare_config` (defaults of the aws provider, setup-command merging, per-type worker limits) and
`validate_config` (ray/autoscaler/ray-schema.json plus Ray's cross-field checks). Deliberately broken
copies must be rejected by the same calls, so these tests would catch a config Ray refuses.
The start commands are parsed by Ray's own `ray start` click command, so a flag this Ray does not
have fails here rather than on the head node at 2 a.m.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CLUSTER_YAML = REPO / "cluster.yaml"
DEPLOY = REPO / "deploy"
RAYJOB_YAML = DEPLOY / "kuberay-rayjob.yaml"
SERVICE_ACCOUNT_YAML = DEPLOY / "kuberay-serviceaccount.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
GPU_LOCK = DEPLOY / "requirements-gpu.lock"
IAM_SCRIPT = DEPLOY / "aws" / "iam.sh"
RAY_VERSION = importlib.metadata.version("ray")

Config = dict[str, Any]


def raw_cluster_config() -> Config:
    # `ray up` reads the file with yaml.safe_load (ray.autoscaler._private.commands).
    return yaml.safe_load(CLUSTER_YAML.read_text())


def ray_validate(config: Config) -> Config:
    """What `ray up` runs on a config before any provider call; raises what Ray raises."""
    from ray.autoscaler._private.util import prepare_config, validate_config

    prepared = prepare_config(copy.deepcopy(config))
    validate_config(prepared)
    return prepared


@pytest.fixture(scope="module")
def prepared() -> Config:
    return ray_validate(raw_cluster_config())


def ray_schema() -> dict[str, Any]:
    import ray.autoscaler

    # The very file validate_config opens.
    return json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())


# --- cluster.yaml against Ray's schema ----------------------------------------------------------------

def test_cluster_yaml_passes_rays_schema_and_config_preparation(prepared: Config) -> None:
    jsonschema.validate(raw_cluster_config(), ray_schema())  # as written, before Ray fills in defaults
    assert prepared["cluster_name"] == "policy-ray"
    # prepare_config kept our node types instead of converting a legacy config.
    assert set(prepared["available_node_types"]) == {"head", "cpu_extractor", "gpu_ocr"}


def _set(path: str, value: Any) -> Callable[[Config], None]:
    def mutate(config: Config) -> None:
        *parents, last = path.split(".")
        node = config
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


def _delete(path: str) -> Callable[[Config], None]:
    def mutate(config: Config) -> None:
        *parents, last = path.split(".")
        node = config
        for key in parents:
            node = node[key]
        del node[last]

    return mutate


BROKEN: list[tuple[str, Callable[[Config], None], type[Exception], str]] = [
    ("unknown top-level key", _set("max_worker", 24), jsonschema.ValidationError, "Additional properties"),
    ("max_workers as a string", _set("max_workers", "24"), jsonschema.ValidationError, "is not of type 'integer'"),
    ("negative idle timeout", _set("idle_timeout_minutes", -1), jsonschema.ValidationError, "minimum"),
    ("fractional GPU", _set("available_node_types.gpu_ocr.resources.GPU", 0.5), jsonschema.ValidationError,
     "is not of type 'integer'"),
    ("unknown node type field", _set("available_node_types.cpu_extractor.max_worker", 20),
     jsonschema.ValidationError, "Additional properties"),
    ("node type without node_config", _delete("available_node_types.gpu_ocr.node_config"),
     jsonschema.ValidationError, "'node_config' is a required property"),
    ("setup command not a string", _set("setup_commands", ["apt-get install -y tesseract-ocr", 42]),
     jsonschema.ValidationError, "is not of type 'string'"),
    ("cache_stopped_nodes as a string", _set("provider.cache_stopped_nodes", "false"), jsonschema.ValidationError,
     "is not of type 'boolean'"),
    ("head type not among node types", _set("head_node_type", "ray.head.default"), ValueError,
     "`head_node_type` must be one of `available_node_types`"),
    ("min workers above max_workers", _set("available_node_types.cpu_extractor.min_workers", 25), ValueError,
     "smaller than the sum of `min_workers`"),
]


@pytest.mark.parametrize(("mutate", "error", "match"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_a_broken_copy_is_rejected_by_ray(mutate: Callable[[Config], None], error: type[Exception],
                                          match: str) -> None:
    config = raw_cluster_config()
    ray_validate(config)  # the untouched file passes ...
    mutate(config)
    with pytest.raises(error, match=re.escape(match)):  # ... the broken copy does not
        ray_validate(config)


# --- cluster.yaml: what the night needs ---------------------------------------------------------------

def test_node_types_sizes_and_resources(prepared: Config) -> None:
    types = prepared["available_node_types"]
    assert prepared["head_node_type"] == "head"
    expected = {
        "head": ("m6i.xlarge", {"CPU": 0}, 0, 0),
        "cpu_extractor": ("c6i.2xlarge", {"CPU": 8, "extractor": 8}, 0, 20),
        "gpu_ocr": ("g5.xlarge", {"CPU": 4, "GPU": 1, "ocr": 4}, 0, 4),
    }
    for name, (instance, resources, min_workers, max_workers) in expected.items():
        node = types[name]
        assert node["node_config"]["InstanceType"] == instance, name
        assert node["resources"] == resources, name
        assert (node["min_workers"], node["max_workers"]) == (min_workers, max_workers), name
    # GPU and the `ocr` resource only where there is a GPU; nothing is scheduled on the head.
    assert [n for n, t in types.items() if "GPU" in t["resources"] or "ocr" in t["resources"]] == ["gpu_ocr"]
    assert [n for n, t in types.items() if "extractor" in t["resources"]] == ["cpu_extractor"]
    # The global cap does not cut the per-type maxima short.
    assert prepared["max_workers"] >= sum(t["max_workers"] for t in types.values())
    assert prepared["idle_timeout_minutes"] == 5


def test_provider_image_and_auth(prepared: Config) -> None:
    raw = raw_cluster_config()
    assert raw["provider"]["type"] == "aws"
    assert raw["provider"]["region"] == "us-east-1"
    assert raw["provider"]["cache_stopped_nodes"] is False
    assert raw["docker"] == {}  # Ray's spelling of "no docker": commands run on the host
    assert prepared["auth"]["ssh_user"] == "ubuntu"
    images = {t["node_config"]["ImageId"] for t in prepared["available_node_types"].values()}
    assert len(images) == 1
    assert re.fullmatch(r"ami-[0-9a-f]{17}", images.pop())
    assert "must be updated\n      # per region" in CLUSTER_YAML.read_text()


def test_setup_commands_install_tesseract_the_lock_and_the_project(prepared: Config) -> None:
    setup = prepared["setup_commands"]
    joined = "\n".join(setup)
    apt = next(c for c in setup if "apt-get" in c and "install" in c)
    assert "tesseract-ocr" in apt.split()
    assert "python3.11" in apt.split() and "python3.11-venv" in apt.split()  # requires-python >= 3.11
    assert "-m venv ~/venv" in joined
    assert "pip install -r ~/policy-ray/requirements.lock && pip install --no-deps -e ~/policy-ray" in setup
    # Ray merges the common commands in front of the head's and the workers' own.
    assert prepared["head_setup_commands"][: len(setup)] == setup
    assert prepared["worker_setup_commands"] == setup
    assert any("boto3" in c for c in prepared["head_setup_commands"][len(setup):]), "the autoscaler needs boto3"
    # The lock the nodes install pins the Ray these tests validate with (every node must match).
    assert f"ray=={RAY_VERSION}" in (REPO / "requirements.lock").read_text().splitlines()


def test_gpu_ocr_nodes_install_the_driver_and_onnxruntime_gpu(prepared: Config) -> None:
    gpu = prepared["available_node_types"]["gpu_ocr"]
    own = gpu["worker_setup_commands"]
    # A node type's list replaces the merged one (autoscaler._get_node_type_specific_fields): it must start
    # with everything the other workers run.
    assert own[: len(prepared["setup_commands"])] == prepared["setup_commands"]
    extra = own[len(prepared["setup_commands"]):]
    assert any("ubuntu-drivers install --gpgpu" in c for c in extra), "no NVIDIA driver on the GPU nodes"
    swap = extra[-1]
    assert swap == ("pip uninstall -y onnxruntime onnxruntime-gpu && "
                    "pip install --no-deps -r ~/policy-ray/deploy/requirements-gpu.lock")
    for command in own:
        checked = subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, f"{command!r}: {checked.stderr}"
    # The CPU types keep the CPU-only onnxruntime of the lock.
    assert "worker_setup_commands" not in prepared["available_node_types"]["cpu_extractor"]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def test_the_gpu_lock_is_onnxruntime_gpu_of_the_locked_onnxruntime_family() -> None:
    cpu, gpu = _pins(REPO / "requirements.lock"), _pins(GPU_LOCK)
    assert "onnxruntime" in cpu and "onnxruntime-gpu" not in cpu  # CPU nodes, the tests, make demo
    assert "onnxruntime" not in gpu
    cpu_version = tuple(int(x) for x in cpu["onnxruntime"].split(".")[:2])
    gpu_version = tuple(int(x) for x in gpu["onnxruntime-gpu"].split(".")[:2])
    # The newest CUDA build (1.31) trails the locked CPU build (1.32) by one minor release at most.
    assert gpu_version[0] == cpu_version[0] and 0 <= cpu_version[1] - gpu_version[1] <= 1, (cpu_version, gpu_version)
    # Its CUDA/cuDNN runtime comes pinned with it; nothing else of the lock is replaced.
    assert {n for n in gpu if n != "onnxruntime-gpu"} <= {n for n in gpu if n.startswith("nvidia-")}
    assert not set(gpu) & set(cpu)
    # The image of the KubeRay gpu-ocr group installs the same file the same way.
    dockerfile = (DEPLOY / "Dockerfile.gpu").read_text()
    assert "pip uninstall -y onnxruntime onnxruntime-gpu" in dockerfile
    assert "--no-deps -r deploy/requirements-gpu.lock" in dockerfile


def _start_env(command: str) -> dict[str, str]:
    """VAR=value words in front of `ray start` (the environment the head and its job drivers get)."""
    tokens = shlex.split(command)
    at = next(i for i in range(len(tokens) - 1) if tokens[i:i + 2] == ["ray", "start"])
    return dict(t.split("=", 1) for t in tokens[:at] if re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", t))


def _actor_shapes(env: dict[str, str]) -> dict[str, dict[str, float]]:
    """The resources a night's extractor and OCR actors ask for, from a cluster with no worker yet, with
    the CLI's defaults taken from `env` (what a job driver on that head sees)."""
    from policy_ray.cli import build_parser, settings_from_args
    from policy_ray.flows.capacity import plan_pools

    saved = {k: os.environ.get(k) for k in env}
    try:
        os.environ.update(env)
        settings = settings_from_args(build_parser().parse_args(["ingest", "s3://in/night", "--lake", "s3://l"]))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    plan = plan_pools(settings, {"CPU": 0.0})
    shapes = {}
    for kind, options in (("extractor", plan.extractor_options), ("ocr", plan.ocr_options)):
        shape = {"CPU": float(options["num_cpus"]), **{k: float(v) for k, v in options.get("resources", {}).items()}}
        if options.get("num_gpus"):
            shape["GPU"] = float(options["num_gpus"])
        shapes[kind] = shape
    return shapes


def _fits(shape: dict[str, float], resources: dict[str, Any]) -> bool:
    return all(resources.get(k, 0) >= v for k, v in shape.items())


def test_the_head_tells_job_drivers_where_each_actor_runs(prepared: Config) -> None:
    """From zero workers, each kind of actor asks for a shape only its own node type can hold (issue 7:
    the first OCR actor used to ask for {CPU: 1} only and land on a cpu_extractor node)."""
    head_start = next(c for c in prepared["head_start_ray_commands"] if "ray start" in c)
    env = _start_env(head_start)
    assert env["RAY_AUTH_MODE"] == "token"
    assert {k: v for k, v in env.items() if k.startswith("POLICY_RAY_")} == {
        "POLICY_RAY_EXTRACTOR_RESOURCE": "extractor", "POLICY_RAY_OCR_RESOURCE": "ocr", "POLICY_RAY_OCR_GPUS": "1"}
    shapes = _actor_shapes({k: v for k, v in env.items() if k.startswith("POLICY_RAY_")})
    assert shapes == {"extractor": {"CPU": 1.0, "extractor": 1.0}, "ocr": {"CPU": 1.0, "ocr": 1.0, "GPU": 1.0}}
    types = prepared["available_node_types"]
    for kind, node_type in (("extractor", "cpu_extractor"), ("ocr", "gpu_ocr")):
        holders = [name for name, t in types.items() if _fits(shapes[kind], t["resources"])]
        assert holders == [node_type], (kind, holders)
    # Without the head's environment (a laptop, a plain `ray start --head`) nothing custom is asked for.
    assert _actor_shapes({}) == {"extractor": {"CPU": 1.0}, "ocr": {"CPU": 1.0}}


def test_the_repository_is_synced_without_the_local_venv(prepared: Config) -> None:
    assert prepared["file_mounts"]["~/policy-ray"] == "."
    assert ".gitignore" in prepared["rsync_filter"]
    assert ".venv" in prepared["rsync_exclude"]
    assert ".venv/" in (REPO / ".gitignore").read_text().splitlines()


def _ray_start_args(command: str) -> list[str]:
    tokens = shlex.split(command)
    at = next(i for i in range(len(tokens) - 1) if tokens[i:i + 2] == ["ray", "start"])
    return tokens[at + 2:]


def _parse_ray_start(command: str) -> dict[str, Any]:
    """Parse with Ray's own click command: an option this Ray does not know raises here."""
    from ray.scripts.scripts import start

    with start.make_context("ray start", _ray_start_args(command)) as ctx:
        return dict(ctx.params)


def test_start_commands_use_real_ray_start_flags(prepared: Config) -> None:
    head, workers = prepared["head_start_ray_commands"], prepared["worker_start_ray_commands"]
    assert head[0] == "ray stop" and workers[0] == "ray stop"
    head_start = _parse_ray_start(next(c for c in head if "ray start" in c))
    assert head_start["head"] is True
    assert head_start["port"] == 6379
    assert head_start["dashboard_host"] == "0.0.0.0"
    # Without it the head never launches a worker (Ray's warn_about_bad_start_command checks the same).
    assert head_start["autoscaling_config"] == "~/ray_bootstrap_config.yaml"
    worker_start = _parse_ray_start(next(c for c in workers if "ray start" in c))
    assert worker_start["address"] == "$RAY_HEAD_IP:6379"  # the updater exports RAY_HEAD_IP
    assert not worker_start["head"]
    # Token auth on both sides, with the token shipped to every node.
    assert all("RAY_AUTH_MODE=token" in c for c in (*head, *workers) if "ray start" in c)
    assert prepared["file_mounts"]["~/.ray/auth_token"] == "~/.ray/auth_token"


def test_every_command_is_valid_bash(prepared: Config) -> None:
    keys = ("setup_commands", "head_setup_commands", "worker_setup_commands", "head_start_ray_commands",
            "worker_start_ray_commands")
    for key in keys:
        for command in prepared[key]:
            checked = subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True, check=False)
            assert checked.returncode == 0, f"{key}: {command!r}: {checked.stderr}"


def test_iam_script_creates_the_profiles_cluster_yaml_names(prepared: Config, tmp_path: Path) -> None:
    """Run deploy/aws/iam.sh against a recording stand-in for the aws CLI; check the policies it sends."""
    log = tmp_path / "aws-calls.jsonl"
    fake = tmp_path / "bin" / "aws"
    fake.parent.mkdir()
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "if sys.argv[1:3] == ['sts', 'get-caller-identity']:\n"
        "    print('123456789012')\n"
        "elif sys.argv[1:3] in (['iam', 'get-role'], ['iam', 'get-instance-profile']):\n"
        "    sys.exit(254)  # nothing exists yet\n"
    )
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}",
           "INCOMING_BUCKET": "acme-incoming", "LAKE_BUCKET": "acme-lake"}
    done = subprocess.run(["bash", str(IAM_SCRIPT)], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]

    def values(flag: str, call: list[str]) -> str:
        return call[call.index(flag) + 1]

    profiles = {values("--instance-profile-name", c) for c in calls if c[:2] == ["iam", "create-instance-profile"]}
    named = {t["node_config"]["IamInstanceProfile"]["Name"] for t in prepared["available_node_types"].values()}
    assert profiles == named == {"policy-ray-head", "policy-ray-worker"}
    policies = {values("--role-name", c): json.loads(values("--policy-document", c))
                for c in calls if c[:2] == ["iam", "put-role-policy"]}
    worker_actions = {a for s in policies["policy-ray-worker"]["Statement"] for a in _as_list(s["Action"])}
    assert worker_actions == {"s3:ListBucket", "s3:GetObject"}  # workers only read the documents
    head = policies["policy-ray-head"]["Statement"]
    assert {"Effect": "Allow", "Action": "iam:PassRole",
            "Resource": "arn:aws:iam::123456789012:role/policy-ray-worker"} in head
    assert any("s3:PutObject" in _as_list(s["Action"]) and s["Resource"] == "arn:aws:s3:::acme-lake/*" for s in head)
    # Missing bucket names stop the script before any call.
    bare = {k: v for k, v in env.items() if k != "LAKE_BUCKET"}
    assert subprocess.run(["bash", str(IAM_SCRIPT)], env=bare, capture_output=True, check=False).returncode != 0


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


# --- deploy/kuberay-rayjob.yaml ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def rayjob() -> Config:
    documents = list(yaml.safe_load_all(RAYJOB_YAML.read_text()))
    assert len(documents) == 1
    return documents[0]


def test_rayjob_is_a_rayjob_running_the_nightly_entry_point(rayjob: Config) -> None:
    from policy_ray.cli import build_parser, settings_from_args

    assert rayjob["apiVersion"] == "ray.io/v1"
    assert rayjob["kind"] == "RayJob"
    spec = rayjob["spec"]
    assert spec["submissionMode"] in {"K8sJobMode", "HTTPMode", "InteractiveMode", "SidecarMode"}
    entrypoint = shlex.split(spec["entrypoint"])
    assert entrypoint[:2] == ["python", "jobs/nightly_ingest.py"]
    assert (REPO / entrypoint[1]).is_file()
    # The arguments are ones `policy-ray ingest` accepts (jobs/nightly_ingest.py passes them through).
    args = build_parser().parse_args(["ingest", *entrypoint[2:]])
    assert args.input.startswith("s3://") and args.lake.startswith("s3://")
    assert args.progress is False
    # One deterministic id per night, the same date everywhere.
    assert spec["jobId"] == f"nightly-{args.batch_date.isoformat()}"
    assert rayjob["metadata"]["name"].endswith(args.batch_date.isoformat())
    runtime_env = yaml.safe_load(spec["runtimeEnvYAML"])
    assert runtime_env["working_dir"] == "/home/ray/policy-ray"
    # No fixed pool: a fixed --extractors N has the autoscaler start pods for all N actors whatever the
    # backlog. Automatic pools follow the pods the backlog's request brings, up to --scale-max-cpus, whose
    # default is the whole extractor group.
    assert args.extractors is None
    settings = settings_from_args(args)
    assert settings.extractors == 0
    workers = {g["groupName"]: g for g in spec["rayClusterSpec"]["workerGroupSpecs"]}
    extractor_cpus = int(workers["cpu-extractor"]["rayStartParams"]["num-cpus"]) * workers["cpu-extractor"][
        "maxReplicas"]
    assert settings.scale_max_cpus == extractor_cpus == 160
    assert settings.scale_max_ocr_bundles == workers["gpu-ocr"]["maxReplicas"]
    assert args.ocr_engine == "rapidocr"  # OCR on the gpu-ocr group's GPUs (its image has onnxruntime-gpu)


def _custom_resources(group: Config) -> dict[str, int]:
    # KubeRay passes rayStartParams.resources verbatim to `ray start --resources`: a quoted JSON string.
    value: str = group["rayStartParams"].get("resources", '"{}"')
    parsed: dict[str, int] = json.loads(json.loads(value))
    return parsed


def test_rayjob_cluster_mirrors_cluster_yaml(rayjob: Config, prepared: Config) -> None:
    cluster = rayjob["spec"]["rayClusterSpec"]
    assert cluster["rayVersion"] == RAY_VERSION
    assert cluster["enableInTreeAutoscaling"] is True
    assert cluster["autoscalerOptions"]["idleTimeoutSeconds"] == prepared["idle_timeout_minutes"] * 60
    head = cluster["headGroupSpec"]
    assert head["rayStartParams"]["num-cpus"] == "0"
    assert head["template"]["spec"]["containers"][0]["image"]
    workers = {g["groupName"]: g for g in cluster["workerGroupSpecs"]}
    assert set(workers) == {"cpu-extractor", "gpu-ocr"}
    types = prepared["available_node_types"]
    for group, node_type in (("cpu-extractor", "cpu_extractor"), ("gpu-ocr", "gpu_ocr")):
        spec = workers[group]
        assert (spec["minReplicas"], spec["maxReplicas"]) == (types[node_type]["min_workers"],
                                                              types[node_type]["max_workers"])
        assert int(spec["rayStartParams"]["num-cpus"]) == types[node_type]["resources"]["CPU"]
    head_image = head["template"]["spec"]["containers"][0]["image"]
    assert workers["cpu-extractor"]["template"]["spec"]["containers"][0]["image"] == head_image
    # The GPU group runs the image with onnxruntime-gpu (deploy/Dockerfile.gpu, FROM the head's image).
    gpu_image = workers["gpu-ocr"]["template"]["spec"]["containers"][0]["image"]
    assert gpu_image == head_image.replace("policy-ray:", "policy-ray-gpu:") != head_image
    assert re.search(r"^ARG BASE=" + re.escape(head_image) + "$", (DEPLOY / "Dockerfile.gpu").read_text(), re.M)
    assert _custom_resources(workers["cpu-extractor"]) == {"extractor": 8}
    assert _custom_resources(workers["gpu-ocr"]) == {"ocr": 4}
    # The head tells job drivers the same as cluster.yaml's head does.
    head_env = {e["name"]: e["value"] for e in head["template"]["spec"]["containers"][0].get("env", [])}
    cluster_yaml_env = _start_env(next(c for c in prepared["head_start_ray_commands"] if "ray start" in c))
    assert head_env == {k: v for k, v in cluster_yaml_env.items() if k.startswith("POLICY_RAY_")}
    gpu_limits = workers["gpu-ocr"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert gpu_limits["nvidia.com/gpu"] == 1
    cpu_limits = workers["cpu-extractor"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert "nvidia.com/gpu" not in cpu_limits


def test_rayjob_image_and_service_account_exist(rayjob: Config) -> None:
    base = next(line.split()[1] for line in DOCKERFILE.read_text().splitlines() if line.startswith("FROM "))
    assert base == f"rayproject/ray:{RAY_VERSION}-py311"  # the lock's Ray on the project's Python
    account = yaml.safe_load(SERVICE_ACCOUNT_YAML.read_text())
    assert account["kind"] == "ServiceAccount"
    cluster = rayjob["spec"]["rayClusterSpec"]
    templates = [cluster["headGroupSpec"]["template"], *(g["template"] for g in cluster["workerGroupSpecs"])]
    assert {t["spec"]["serviceAccountName"] for t in templates} == {account["metadata"]["name"]}
