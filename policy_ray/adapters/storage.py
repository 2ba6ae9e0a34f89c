"""Where bytes live: one place that turns a location (a folder, `file://`, `s3://`) and the project's
storage options into what deltalake and pyarrow each need.

The options use delta-rs's own upper-case names (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ALLOW_HTTP`, ...), so one mapping serves
both libraries: deltalake takes it as `storage_options`, pyarrow gets an `S3FileSystem` built from it.
The standard AWS environment variables are the defaults; explicit options win. With neither, both
libraries fall back to their default credential chains (instance profile, ~/.aws, web identity).

On S3, deltalake 1.6.1+ commits with conditional writes (put-if-absent): `AWS_S3_ALLOW_UNSAFE_RENAME`
would switch that off and let two writers overwrite each other's commit, so it is refused here.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path

import pyarrow.fs as pafs

S3_SCHEMES = frozenset({"s3", "s3a"})

# Read from the environment when the options do not name them (same names as the options).
ENV_KEYS: tuple[str, ...] = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ALLOW_HTTP",
)  # AWS_PROFILE and web identity: both libraries read those from the environment themselves
REFUSED_KEYS = frozenset({"AWS_S3_ALLOW_UNSAFE_RENAME"})
DEFAULT_REGION = "us-east-1"  # what S3-compatible servers (MinIO, moto, Ceph) expect when none is set
SECRET_KEYS = frozenset({"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"})


class StorageConfigError(ValueError):
    """The storage options would make the lake unsafe or cannot be used."""


def scheme_of(location: str) -> str:
    """`s3`, `gs`, ... for a URI; `file` for a local path or a `file://` URI."""
    if "://" not in location:
        return "file"
    return location.split("://", 1)[0].lower()


def is_local(location: str) -> bool:
    return scheme_of(location) == "file"


def is_s3(location: str) -> bool:
    return scheme_of(location) in S3_SCHEMES


def _truthy(value: str | None) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def resolve_options(options: Mapping[str, str] | None = None, *,
                    env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The effective S3 options: the AWS environment variables, overridden by `options`.

    Keys are upper-cased (delta-rs accepts either case; pyarrow needs one spelling to look for). An
    endpoint without a region gets `us-east-1`, and an `http://` endpoint implies `AWS_ALLOW_HTTP`.
    """
    environ = os.environ if env is None else env
    resolved = {k: environ[k] for k in ENV_KEYS if environ.get(k)}
    resolved.update({str(k).upper(): str(v) for k, v in (options or {}).items() if v is not None})
    for key in REFUSED_KEYS & resolved.keys():
        if _truthy(resolved[key]):
            raise StorageConfigError(
                f"{key} is refused: deltalake 1.6.1+ commits to S3 with conditional writes, and unsafe "
                "renames would let two writers overwrite each other's commits")
        resolved.pop(key)
    if "AWS_ENDPOINT_URL" not in resolved and "AWS_ENDPOINT_URL_S3" in resolved:
        resolved["AWS_ENDPOINT_URL"] = resolved["AWS_ENDPOINT_URL_S3"]
    resolved.pop("AWS_ENDPOINT_URL_S3", None)
    if "AWS_REGION" not in resolved and "AWS_DEFAULT_REGION" in resolved:
        resolved["AWS_REGION"] = resolved["AWS_DEFAULT_REGION"]
    resolved.pop("AWS_DEFAULT_REGION", None)
    endpoint = resolved.get("AWS_ENDPOINT_URL", "")
    if endpoint:
        resolved.setdefault("AWS_REGION", DEFAULT_REGION)
        if endpoint.lower().startswith("http://"):
            resolved.setdefault("AWS_ALLOW_HTTP", "true")
    return resolved


def delta_storage_options(location: str, options: Mapping[str, str] | None = None) -> dict[str, str]:
    """`storage_options` for deltalake at `location`: resolved S3 options for s3://, the given ones as
    they are for anything else (an empty dict for a local folder)."""
    if is_s3(location):
        return resolve_options(options)
    return dict(options or {})


def redacted(options: Mapping[str, str]) -> dict[str, str]:
    """Options safe to log: secrets replaced."""
    return {k: ("***" if k.upper() in SECRET_KEYS else v) for k, v in options.items()}


def filesystem_for(location: str, options: Mapping[str, str] | None = None, *,
                   small_writes: bool = False) -> tuple[pafs.FileSystem, str]:
    """(pyarrow FileSystem, path inside it) for a folder, `file://` or `s3://` URI (other schemes through
    pyarrow's own `from_uri`, with its defaults). S3 paths come back as `bucket/key`.

    `small_writes`: on S3, an object written in one go is sent as one PutObject instead of a multipart
    upload (pyarrow's `allow_delayed_open`): a forensic report is one request, not three, and S3
    look-alikes with a broken CompleteMultipartUpload (moto 5.2.1, getmoto/moto#10055) take it too."""
    if is_local(location):
        path = location[len("file://"):] if location.lower().startswith("file://") else location
        return pafs.LocalFileSystem(), str(Path(path).resolve())
    if is_s3(location):
        resolved = resolve_options(options)
        fs = _s3_filesystem(tuple(sorted(resolved.items())), small_writes)
        return fs, location.split("://", 1)[1].rstrip("/")
    return pafs.FileSystem.from_uri(location)


@functools.lru_cache(maxsize=16)
def _s3_filesystem(options: tuple[tuple[str, str], ...], small_writes: bool = False) -> pafs.S3FileSystem:
    """One S3FileSystem per distinct set of options in a process (an actor reads thousands of files)."""
    o = dict(options)
    kwargs: dict[str, object] = {"allow_delayed_open": True} if small_writes else {}
    endpoint = o.get("AWS_ENDPOINT_URL", "")
    if endpoint:
        scheme, _, host = endpoint.partition("://")
        if host:
            kwargs["endpoint_override"] = host.rstrip("/")
            kwargs["scheme"] = scheme.lower()
        else:
            kwargs["endpoint_override"] = endpoint.rstrip("/")
            kwargs["scheme"] = "http" if _truthy(o.get("AWS_ALLOW_HTTP")) else "https"
    if o.get("AWS_ACCESS_KEY_ID") and o.get("AWS_SECRET_ACCESS_KEY"):
        kwargs["access_key"] = o["AWS_ACCESS_KEY_ID"]
        kwargs["secret_key"] = o["AWS_SECRET_ACCESS_KEY"]
        if o.get("AWS_SESSION_TOKEN"):
            kwargs["session_token"] = o["AWS_SESSION_TOKEN"]
    if o.get("AWS_REGION"):
        kwargs["region"] = o["AWS_REGION"]
    if endpoint:
        # A custom endpoint serves path-style URLs (bucket in the path, not in the host name).
        kwargs["force_virtual_addressing"] = False
    return pafs.S3FileSystem(**kwargs)


def open_bytes(location: str, options: Mapping[str, str] | None = None) -> bytes:
    """The whole object or file at `location`."""
    fs, path = filesystem_for(location, options)
    with fs.open_input_stream(path) as stream:
        return bytes(stream.read())
