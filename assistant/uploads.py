"""Library uploads saved under the data home, each in a folder named by its content: `uploads/<hash>/<name>`.

Two different uploads never overwrite or replace one another, whatever they are called (every Zotero export is
"Exported Items.bib"); the same bytes uploaded again land on the same path and are reported "unchanged". Nothing is
written outside `uploads/`, and a zip is unpacked within limits (assistant/zips.py).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from litassist.index.file_state import file_hash
from litassist.index.loaders import unsupported

from litassist.assistant.settings import ServerSettings
from litassist.assistant.zips import MB, PARTIAL, UploadLimits, extract_zip

HASH_CHARS = 16  # hex digits of the content hash naming an upload's folder (64 bits: no accidental clash)


def upload_dir(home: Path) -> Path:
    """Where uploaded files are kept, so that re-uploading an unchanged file is recognised as such."""
    folder = Path(home) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def limits_of(server: ServerSettings) -> UploadLimits:
    """The upload limits the server settings set."""
    return UploadLimits(file_bytes=server.max_upload_mb * MB, unpacked_bytes=server.max_unpacked_mb * MB,
                        members=server.max_zip_members)


def safe_name(name: str) -> str | None:
    """A file name with no folders in it (an upload must never choose where it is written); None if there is none."""
    base = PurePosixPath(name.replace("\\", "/")).name
    return None if base in ("", ".", "..") else base


@dataclass
class Received:
    """One uploaded file accepted for saving: where the server received it, its own name, its folder here."""

    source: Path
    name: str
    folder: Path


@dataclass
class UploadBatch:
    """The uploads of one request: those accepted (nothing written yet), then the files saved, and every refusal
    as 'name: why' (never a path on this machine)."""

    accepted: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def roots(self) -> list[Path]:
        """The content-named folders this batch writes to."""
        return list(dict.fromkeys(item.folder for item in self.accepted))

    def save(self, limits: UploadLimits) -> None:
        """Copy each accepted upload into its folder (unpacking zips); a failure costs that upload only."""
        for item in self.accepted:
            try:
                self.files += save_one(item, limits, self.refused)
            except zipfile.BadZipFile:
                self.refused.append(f"{item.name}: not a readable zip file")
            except OSError as exc:
                self.refused.append(f"{item.name}: cannot be saved ({exc.strerror or type(exc).__name__})")


def receive(paths: list[str], home: Path, limits: UploadLimits) -> UploadBatch:
    """Check each upload's name, type and size and find its folder by hashing it; nothing is written yet."""
    batch, uploads = UploadBatch(), upload_dir(home)
    for raw in paths:
        source = Path(raw)
        name = safe_name(source.name)
        if name is None:
            batch.refused.append(f"{source.name or raw}: unusable file name")
            continue
        try:
            size = source.stat().st_size
            if size > limits.file_bytes:
                batch.refused.append(f"{name}: larger than the {limits.file_bytes / MB:g} MB upload limit")
            elif source.suffix.lower() != ".zip" and unsupported(source):
                batch.refused.append(f"{name}: unsupported file type '{source.suffix or name}'")
            else:
                batch.accepted.append(Received(source, name, uploads / file_hash(source)[:HASH_CHARS]))
        except OSError as exc:
            batch.refused.append(f"{name}: cannot be read ({exc.strerror or type(exc).__name__})")
    return batch


def save_one(item: Received, limits: UploadLimits, refused: list[str]) -> list[Path]:
    """Save one upload into its folder: a zip's supported members, or the file itself."""
    item.folder.mkdir(parents=True, exist_ok=True)
    if item.source.suffix.lower() == ".zip":
        return extract_zip(item.source, item.folder, limits, refused, archive_name=item.name)
    dest = item.folder / item.name
    if not dest.is_file():  # else the same bytes under the same name were uploaded before: nothing to write
        handle, temporary = tempfile.mkstemp(prefix=PARTIAL, dir=item.folder)
        os.close(handle)
        try:
            shutil.copyfile(item.source, temporary)
            os.replace(temporary, dest)
        finally:
            Path(temporary).unlink(missing_ok=True)
    return [dest]


def save_uploads(paths: list[str], home: Path, limits: UploadLimits) -> UploadBatch:
    """Receive and save uploads in one step (the server marks a batch pending in between: see upload_jobs)."""
    batch = receive(paths, home, limits)
    batch.save(limits)
    return batch


def shown(text: str, home: Path) -> str:
    """A message with this machine's paths taken out: an upload by its own name, other data-home paths relative."""
    home = str(Path(home).resolve())
    text = re.sub(re.escape(f"{home}/uploads/") + f"[0-9a-f]{{{HASH_CHARS}}}/", "", text)
    return text.replace(f"{home}/", "").replace(home, "the data home")
