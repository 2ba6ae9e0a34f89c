"""The night's input: listing documents and reading their bytes, from a folder or a filesystem URI.

Folders are walked lazily, one at a time in sorted order (a night of 100,000 files is never held as
objects); other filesystems (s3://, gs://, ...) go through pyarrow.fs, built by `policy_ray.adapters.storage` from
the run's storage options (an S3-compatible endpoint, credentials) and the AWS environment variables.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow.fs as pafs

from policy_ray.adapters import storage
from policy_ray.errors import FailureCategory, PolicyRayError

DOCUMENT_PATTERNS: tuple[str, ...] = ("*.pdf", "*.tif", "*.tiff", "*.png", "*.jpg", "*.jpeg")
READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class SourceFile:
    uri: str
    size: int

    @property
    def name(self) -> str:
        return self.uri.rstrip("/").rsplit("/", 1)[-1]


def _is_uri(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


def _local(location: str) -> str:
    return location.removeprefix("file://")


class DocumentSource:
    def __init__(self, location: str, *, patterns: tuple[str, ...] = DOCUMENT_PATTERNS,
                 filesystem: pafs.FileSystem | None = None, storage_options: Mapping[str, str] | None = None):
        self.location = location
        self.patterns = patterns
        if filesystem is not None:
            self._fs: pafs.FileSystem | None = filesystem
            self._root = location.split("://", 1)[-1]
        elif _is_uri(location):
            self._fs, self._root = storage.filesystem_for(location, storage_options)
        else:
            self._fs, self._root = None, str(Path(_local(location)).resolve())

    @property
    def identity(self) -> str:
        """Where the night comes from, spelled one way however it was typed (`night`, `./night/`, an
        absolute path; `S3://bucket/night/`): the batch id is derived from this."""
        if self._fs is None:
            return self._root
        return f"{self.location.split('://', 1)[0].lower()}://{self._root.strip('/')}"

    def wanted(self, name: str) -> bool:
        lowered = name.lower()
        return not name.startswith(".") and any(fnmatch.fnmatch(lowered, p) for p in self.patterns)

    def list(self) -> Iterator[SourceFile]:
        if self._fs is None:
            yield from self._walk_local(self._root)
            return
        yield from self._walk_fs(self._fs, self._root, self.location.split("://", 1)[0], top=True)

    def count(self) -> int:
        """How many documents `list()` will yield (a listing pass, no reads): sizes a backlog."""
        return sum(1 for _ in self.list())

    def _walk_local(self, root: str) -> Iterator[SourceFile]:
        if not os.path.isdir(root):
            raise FileNotFoundError(f"input folder not found: {root}")
        # Sorted names only (strings), stat one file at a time: DirEntry objects cache a stat result each,
        # which made a 100,000-file folder cost the driver ~60 MB for the whole walk (bench figure 2).
        for name in sorted(os.listdir(root)):
            path = os.path.join(root, name)
            try:
                info = os.stat(path, follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode):
                    info = os.stat(path)
            except OSError:
                continue  # vanished while listing, or a dangling link: not a document of this night
            if stat.S_ISDIR(info.st_mode) and not os.path.islink(path):
                yield from self._walk_local(path)
            elif stat.S_ISREG(info.st_mode) and self.wanted(name):
                yield SourceFile(path, info.st_size)

    def _walk_fs(self, fs: pafs.FileSystem, prefix: str, scheme: str, *, top: bool = False) -> Iterator[SourceFile]:
        # One folder (S3: one delimiter listing, paged 1,000 keys at a time) at a time, like the local walk:
        # carriers deliver into dated or per-carrier folders, so a night is never listed as one object.
        try:
            infos = fs.get_file_info(pafs.FileSelector(prefix, recursive=False))
        except FileNotFoundError as exc:
            if not top:
                return  # a folder that vanished while listing: not part of this night
            raise FileNotFoundError(f"input not found (or empty): {self.location}") from exc
        except OSError as exc:  # endpoint unreachable, access denied: the night cannot run
            raise ConnectionError(f"cannot list the input {self.location}: {exc}") from exc
        infos.sort(key=lambda i: i.base_name)
        for info in infos:
            if info.type == pafs.FileType.Directory:
                yield from self._walk_fs(fs, info.path, scheme)
            elif info.type == pafs.FileType.File and self.wanted(info.base_name):
                yield SourceFile(f"{scheme}://{info.path}", int(info.size or 0))

    def stat(self, uri: str) -> SourceFile:
        """One named file (a replay lists its documents itself). A file that is gone gets size 0 and
        fails at hashing as `source_unreadable`, so it is still recorded."""
        try:
            if self._fs is None:
                return SourceFile(uri, Path(uri).stat().st_size)
            info = self._fs.get_file_info(uri.split("://", 1)[-1])
            return SourceFile(uri, int(info.size or 0))
        except OSError:
            return SourceFile(uri, 0)

    def read(self, uri: str) -> bytes:
        try:
            if self._fs is None:
                return Path(uri).read_bytes()
            with self._fs.open_input_stream(uri.split("://", 1)[-1]) as f:
                return bytes(f.read())
        except OSError as exc:
            raise PolicyRayError(FailureCategory.SOURCE_UNREADABLE, f"cannot read the source: {exc}",
                                 stage="read") from exc

    def sha256(self, uri: str) -> str:
        digest = hashlib.sha256()
        try:
            if self._fs is None:
                with open(uri, "rb") as f:
                    while chunk := f.read(READ_CHUNK):
                        digest.update(chunk)
            else:
                with self._fs.open_input_stream(uri.split("://", 1)[-1]) as f:
                    while chunk := f.read(READ_CHUNK):
                        digest.update(chunk)
        except OSError as exc:
            raise PolicyRayError(FailureCategory.SOURCE_UNREADABLE, f"cannot read the source: {exc}",
                                 stage="hash") from exc
        return digest.hexdigest()
